import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTRPC, useTRPCClient } from '../../api';
import { Announcements, Field } from '../../components/Form';
import type { StepUp } from '../../components/StepUp';
import { useAction } from '../../components/useAction';
import { explainedMessageOf } from '../../errors';
import { roleLabels } from './roles';

const stepUpAction = 'org_sso';
type MappedRole = 'admin' | 'member';

/** Group names compare as the service compares them (docs/api.md, sso.scim.mapGroup: case-insensitive). */
const keyOf = (name: string) => name.trim().normalize('NFC').toLowerCase();

/**
 * The roles SCIM groups give (docs/api.md, SCIM groups and roles): a provisioned member holds the
 * highest role a mapped group of theirs gives, `member` when none is mapped; the owner is never
 * changed. A mapping names a group, which need not be pushed yet; each change asks for the step-up.
 */
export function ScimGroupRoles({ organizationId, stepUp }: { organizationId: string; stepUp: StepUp }) {
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const roles = useQuery(trpc.sso.scim.groupRoles.queryOptions({ organizationId }));
  const { act, busy, error, status } = useAction(
    () => queryClient.invalidateQueries({ queryKey: trpc.sso.scim.groupRoles.queryKey({ organizationId }) }),
    explainedMessageOf,
  );
  const [name, setName] = useState('');
  const [role, setRole] = useState<MappedRole>('member');
  const [problem, setProblem] = useState<string | null>(null);
  const [focusHeading, setFocusHeading] = useState(false);

  useEffect(() => {
    if (!focusHeading) return;
    document.getElementById('scim-groups-title')?.focus();
    setFocusHeading(false);
  }, [focusHeading]);

  const map = (displayName: string, to: MappedRole | null) =>
    act(async () => {
      const saved = await stepUp.run(stepUpAction, (stepUpToken) =>
        api.sso.scim.mapGroup.mutate({ organizationId, displayName, role: to, stepUpToken }),
      );
      if (saved.role === null) {
        setFocusHeading(true);
        return `The group ${saved.displayName} no longer gives a role: its members are members unless another group makes them admins.`;
      }
      setName('');
      return `Members of the group ${saved.displayName} are now ${roleLabels[saved.role].toLowerCase()}s.`;
    });

  const mappings = roles.data?.mappings ?? [];
  const mapped = new Set(mappings.map((mapping) => keyOf(mapping.displayName)));
  const unmapped = (roles.data?.groups ?? []).filter((group) => !mapped.has(keyOf(group.displayName)));
  const membersOf = (displayName: string) => roles.data?.groups.find((group) => keyOf(group.displayName) === keyOf(displayName))?.members;

  return (
    <>
      <h3 id="scim-groups-title" className="sso-subhead" tabIndex={-1}>
        Group roles
      </h3>
      <p>
        A provisioned member's role follows their groups at the identity provider: admin when a group of theirs is mapped to admin, member
        otherwise. The owner is never changed.
      </p>
      <Announcements status={status} error={error} />
      {roles.error && (
        <p role="alert" className="error">
          {explainedMessageOf(roles.error)}
        </p>
      )}
      {roles.data &&
        (mappings.length === 0 ? (
          <p className="muted">No group is mapped yet.</p>
        ) : (
          <ul className="scim-items" aria-label="Mapped groups">
            {mappings.map((mapping) => {
              const members = membersOf(mapping.displayName);
              return (
                <li key={mapping.displayName}>
                  <p className="scim-item-title">
                    <strong>{mapping.displayName}</strong> <span className="badge role">{roleLabels[mapping.role]}</span>
                  </p>
                  <p className="muted">
                    {members === undefined
                      ? 'Not pushed by the identity provider yet.'
                      : `${members} ${members === 1 ? 'member' : 'members'} at the identity provider.`}
                  </p>
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy}
                    aria-label={`Remove the mapping of ${mapping.displayName}`}
                    onClick={() => map(mapping.displayName, null)}
                  >
                    Remove mapping
                  </button>
                </li>
              );
            })}
          </ul>
        ))}
      {unmapped.length > 0 && (
        <p className="muted">
          Groups pushed without a mapping:{' '}
          {unmapped.map((group) => `${group.displayName} (${group.members} ${group.members === 1 ? 'member' : 'members'})`).join(', ')}.
        </p>
      )}
      <form
        className="add-domain"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const displayName = name.trim();
          if (!displayName) {
            setProblem('Enter the group name as your identity provider shows it.');
            document.getElementById('field-scim-group')?.focus();
            return;
          }
          setProblem(null);
          map(displayName, role);
        }}
      >
        <Field
          label="Group name"
          name="scim-group"
          value={name}
          onChange={setName}
          autoComplete="off"
          hint="As the identity provider names it; capitals do not matter."
          error={problem}
        />
        <div className="field">
          <label htmlFor="scim-group-role">Role it gives</label>
          <select id="scim-group-role" value={role} onChange={(event) => setRole(event.target.value as MappedRole)}>
            <option value="member">Member</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <button type="submit" disabled={busy}>
          Map group
        </button>
      </form>
    </>
  );
}
