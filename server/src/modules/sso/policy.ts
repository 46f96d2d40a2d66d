import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { organizations, scimUsers, type UserRow } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { memberRole } from '../orgs/orgs';
import { organizationOfEmail } from './domains';

/**
 * Required SSO (docs/api.md, org.update `requireSso`): a member of an organization that
 * requires it, whose address is at one of its verified domains, signs in only through the
 * organization's identity provider — so leaving the company (disabled at the IdP) ends their
 * way in (OWASP ASVS 4.0 V2.x: centrally managed authentication). Other methods are refused
 * with `SSO_REQUIRED` naming the organization, only once the caller proved who they are (the
 * right password, a code, a passkey), so the refusal reveals nothing to anyone else.
 */
export async function ssoRequiredBy(executor: Executor, user: Pick<UserRow, 'id' | 'email'>): Promise<string | null> {
  const organizationId = await organizationOfEmail(executor, user.email);
  if (!organizationId) return null;
  const [organization] = await executor
    .select({ requireSso: organizations.requireSso })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
    .limit(1);
  if (!organization?.requireSso) return null;
  return (await memberRole(executor, organizationId, user.id)) ? organizationId : null;
}

/** Throws `SSO_REQUIRED` (audited `login.failed`, reason `sso_required`) when the user must sign in through SSO. */
export async function assertSsoNotRequired(
  executor: Executor,
  user: Pick<UserRow, 'id' | 'email'>,
  context: { method: string; client: ClientInfo; now: Date },
): Promise<void> {
  const organizationId = await ssoRequiredBy(executor, user);
  if (organizationId) await refuseForSso(executor, user, organizationId, context);
}

/** The refusal itself, when the caller already knows the organization (`accountWithHistory` read it with the account). */
export async function refuseForSso(
  executor: Executor,
  user: Pick<UserRow, 'id' | 'email'>,
  organizationId: string,
  context: { method: string; client: ClientInfo; now: Date },
): Promise<never> {
  await recordAudit(executor, {
    type: 'login.failed',
    at: context.now,
    userId: user.id,
    client: context.client,
    organizationId,
    data: { reason: 'sso_required', method: context.method },
  });
  throw new IamError('SSO_REQUIRED', { organizationId });
}

/**
 * The organization that manages the account's address, or null: one whose directory
 * provisioned it (an active SCIM identity), or one that requires SSO of it. Such an address is
 * the organization's to change, not the user's: moving it to a domain the organization does
 * not hold would take the account out of its required SSO and out of its deprovisioning, so
 * leaving the company (disabled at the IdP) would no longer end the way in (OWASP ASVS 4.0
 * V2.x, centrally managed authentication; NIST SP 800-63B §6.1.2.3: the subscriber's
 * identifiers stay under the authority that bound them).
 */
export async function organizationManagingAddress(executor: Executor, user: Pick<UserRow, 'id' | 'email'>): Promise<string | null> {
  const [provisioned] = await executor
    .select({ organizationId: scimUsers.organizationId })
    .from(scimUsers)
    .where(and(eq(scimUsers.userId, user.id), eq(scimUsers.active, true)))
    .limit(1);
  return provisioned?.organizationId ?? (await ssoRequiredBy(executor, user));
}
