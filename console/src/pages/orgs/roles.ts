import type { OrganizationRole } from '../../api';

export const roleLabels: Record<OrganizationRole, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' };

/** What the caller's role allows (docs/api.md, org): the buttons shown; the service checks again on every call. */
export function permissionsOf(role: OrganizationRole) {
  const manager = role === 'owner' || role === 'admin';
  return {
    edit: manager,
    invite: manager,
    inviteAdmins: role === 'owner',
    setRoles: role === 'owner',
    transfer: role === 'owner',
    revokeSessions: manager,
    audit: manager,
    /** Single sign-on: domains and the connection; requiring it is the owner's alone. */
    sso: manager,
    requireSso: role === 'owner',
    /** The owner removes anyone but itself; an admin removes members. */
    remove: (memberRole: OrganizationRole, self: boolean) => !self && (role === 'owner' || (role === 'admin' && memberRole === 'member')),
  };
}
