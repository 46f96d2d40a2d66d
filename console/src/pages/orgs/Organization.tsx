import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { type Organization, type OrganizationRole, useTRPC, useTRPCClient } from '../../api';
import { Announcements, Card, Field } from '../../components/Form';
import { useStepUp } from '../../components/StepUp';
import { useAction } from '../../components/useAction';
import { messageOf } from '../../errors';
import { formatDateTime } from '../../format';
import { useSession } from '../../session';
import { permissionsOf, roleLabels } from './roles';
import './orgs.css';

/** The step-up actions of the organization's sensitive calls (docs/api.md, org). */
const stepUpActions = { transfer: 'org_ownership', revokeSessions: 'org_sessions' } as const;

type Member = Organization['members'][number];
type Confirming =
  | { kind: 'remove'; member: Member }
  | { kind: 'transfer'; member: Member }
  | { kind: 'revokeSessions' }
  | { kind: 'leave' };

const auditPageSize = 20;

/** One organization: its details, members, invitations, and what the caller's role lets them do. */
export function OrganizationPage() {
  const { id = '' } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const { user } = useSession();
  const [, navigate] = useLocation();
  const detail = useQuery(trpc.org.get.queryOptions({ organizationId: id }));
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const action = useAction(() => queryClient.invalidateQueries({ queryKey: trpc.org.pathKey() }));
  const { busy, error, status } = action;
  const act = (work: () => Promise<string>) => {
    setConfirming(null);
    action.act(work);
  };

  if (detail.error)
    return (
      <>
        <h1>Organization</h1>
        <p role="alert" className="error">
          {messageOf(detail.error)}
        </p>
        <Link href="/organizations">Back to organizations</Link>
      </>
    );
  if (!detail.data) return <p className="loading">Loading…</p>;
  const { organization, role, members } = detail.data;
  const may = permissionsOf(role);
  const organizationId = organization.id;
  const others = members.filter((member) => member.userId !== user?.id);
  const describe = (member: Member) => member.name ?? member.email;

  /** The question of the action asked for, where its button is, if it is one of `kinds`. */
  const confirmBox = (...kinds: Confirming['kind'][]) =>
    confirming && kinds.includes(confirming.kind) ? (
      <section className="confirm" aria-label="Confirm">
        <p>
          <strong>{question(confirming, organization.name, describe)}</strong>
        </p>
        <button type="button" className="danger" disabled={busy} onClick={() => perform(confirming)}>
          {confirmLabels[confirming.kind]}
        </button>
        <button type="button" className="secondary" onClick={() => setConfirming(null)}>
          Cancel
        </button>
      </section>
    ) : null;

  const perform = (what: Confirming) =>
    act(async () => {
      switch (what.kind) {
        case 'remove':
          await api.org.removeMember.mutate({ organizationId, userId: what.member.userId });
          return `${describe(what.member)} is no longer a member.`;
        case 'transfer':
          await stepUp.run(stepUpActions.transfer, (stepUpToken) =>
            api.org.transferOwnership.mutate({ organizationId, userId: what.member.userId, stepUpToken }),
          );
          return `${describe(what.member)} is now the owner; you are an admin.`;
        case 'revokeSessions': {
          const { count } = await stepUp.run(stepUpActions.revokeSessions, (stepUpToken) =>
            api.org.revokeSessions.mutate({ organizationId, stepUpToken }),
          );
          return `${count} ${count === 1 ? 'session' : 'sessions'} ended.`;
        }
        case 'leave':
          await api.org.leave.mutate({ organizationId });
          queryClient.removeQueries({ queryKey: trpc.org.get.queryKey({ organizationId }) });
          navigate('/organizations');
          return `You left ${organization.name}.`;
      }
    });

  return (
    <>
      <p>
        <Link href="/organizations">All organizations</Link>
      </p>
      <h1 className="long-title">
        {organization.name} <span className="badge role">{roleLabels[role]}</span>
      </h1>
      <Announcements status={status} error={error} />

      <Details organization={organization} editable={may.edit} act={act} busy={busy} />

      <Card title={`Members (${members.length})`}>
        <Table caption="Members" head={['Member', 'Email', 'Role', 'Joined', 'Actions']}>
          {members.map((member) => {
            const self = member.userId === user?.id;
            return (
              <tr key={member.userId}>
                <td className="wrap">
                  {member.name ?? '—'}
                  {self && <span className="muted"> (you)</span>}
                </td>
                <td className="wrap">{member.email}</td>
                <td>
                  {may.setRoles && member.role !== 'owner' ? (
                    <select
                      aria-label={`Role of ${member.email}`}
                      value={member.role}
                      disabled={busy}
                      onChange={(event) => {
                        const next = event.target.value as Exclude<OrganizationRole, 'owner'>;
                        act(async () => {
                          await api.org.setRole.mutate({ organizationId, userId: member.userId, role: next });
                          return `${describe(member)} is now ${next === 'admin' ? 'an admin' : 'a member'}.`;
                        });
                      }}
                    >
                      <option value="member">Member</option>
                      <option value="admin">Admin</option>
                    </select>
                  ) : (
                    roleLabels[member.role]
                  )}
                </td>
                <td>{formatDateTime(member.joinedAt)}</td>
                <td>
                  {may.remove(member.role, self) && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`Remove ${member.email}`}
                      onClick={() => setConfirming({ kind: 'remove', member })}
                    >
                      Remove…
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </Table>
        {confirmBox('remove')}
      </Card>

      {may.invite && <Invitations organizationId={organizationId} inviteAdmins={may.inviteAdmins} act={act} busy={busy} />}

      {may.sso && (
        <Card title="Single sign-on">
          <p>Let members sign in with your company's identity provider, for the email domains you verify.</p>
          <Link href={`/organizations/${organizationId}/sso`}>Manage single sign-on</Link>
        </Card>
      )}

      {may.transfer && others.length > 0 && (
        <TransferOwnership members={others} busy={busy} onTransfer={(member) => setConfirming({ kind: 'transfer', member })}>
          {confirmBox('transfer')}
        </TransferOwnership>
      )}

      <Card title="Sessions and membership">
        {may.revokeSessions && (
          <>
            <p>End every live session of every member, yours elsewhere included (not this one). They sign in again.</p>
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirming({ kind: 'revokeSessions' })}>
              End every member's session…
            </button>
          </>
        )}
        <p>{role === 'owner' ? 'As the owner, transfer the ownership before you leave.' : 'Leave the organization.'}</p>
        <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming({ kind: 'leave' })}>
          Leave organization…
        </button>
        {confirmBox('revokeSessions', 'leave')}
      </Card>

      {may.audit && <OrganizationAudit organizationId={organizationId} members={members} />}
      {stepUp.prompt}
    </>
  );
}

const confirmLabels: Record<Confirming['kind'], string> = {
  remove: 'Yes, remove',
  transfer: 'Yes, transfer',
  revokeSessions: 'Yes, end every session',
  leave: 'Yes, leave',
};

function question(confirming: Confirming, name: string, describe: (member: Member) => string): string {
  switch (confirming.kind) {
    case 'remove':
      return `Remove ${describe(confirming.member)} from ${name}?`;
    case 'transfer':
      return `Make ${describe(confirming.member)} the owner of ${name}? You become an admin.`;
    case 'revokeSessions':
      return `End every session of every member of ${name}?`;
    case 'leave':
      return `Leave ${name}?`;
  }
}

type Act = (work: () => Promise<string>) => void;

function Details(props: { organization: Organization['organization']; editable: boolean; act: Act; busy: boolean }) {
  const api = useTRPCClient();
  const { organization, editable, act, busy } = props;
  const [name, setName] = useState<string | null>(null);
  const [slug, setSlug] = useState<string | null>(null);
  return (
    <Card title="Details">
      <dl className="facts">
        <dt>Name</dt>
        <dd>{organization.name}</dd>
        <dt>Slug</dt>
        <dd>{organization.slug}</dd>
        <dt>Id</dt>
        <dd>{organization.id}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(organization.createdAt)}</dd>
      </dl>
      {editable && (
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            const nextName = (name ?? organization.name).trim();
            const nextSlug = (slug ?? organization.slug).trim();
            act(async () => {
              await api.org.update.mutate({
                organizationId: organization.id,
                ...(nextName !== organization.name ? { name: nextName } : {}),
                ...(nextSlug !== organization.slug || nextName === organization.name ? { slug: nextSlug } : {}),
              });
              setName(null);
              setSlug(null);
              return 'The organization is saved.';
            });
          }}
        >
          <Field label="Name" name="edit-org-name" value={name ?? organization.name} onChange={setName} />
          <Field label="Slug" name="edit-org-slug" value={slug ?? organization.slug} onChange={setSlug} />
          <div className="field">
            <button type="submit" className="secondary" disabled={busy}>
              Save
            </button>
          </div>
        </form>
      )}
    </Card>
  );
}

function Invitations(props: { organizationId: string; inviteAdmins: boolean; act: Act; busy: boolean }) {
  const trpc = useTRPC();
  const api = useTRPCClient();
  const { organizationId, inviteAdmins, act, busy } = props;
  const invitations = useQuery(trpc.org.invitations.list.queryOptions({ organizationId }));
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'admin' | 'member'>('member');
  return (
    <Card title="Invitations">
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          const address = email.trim();
          act(async () => {
            await api.org.invite.mutate({ organizationId, email: address, role });
            setEmail('');
            return `An invitation is on its way to ${address}.`;
          });
        }}
      >
        <Field label="Email to invite" name="invite-email" type="email" value={email} onChange={setEmail} autoComplete="off" />
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" value={role} onChange={(event) => setRole(event.target.value as 'admin' | 'member')}>
            <option value="member">Member</option>
            {inviteAdmins && <option value="admin">Admin</option>}
          </select>
        </div>
        <div className="field">
          <button type="submit" disabled={busy}>
            Send invitation
          </button>
        </div>
      </form>
      {invitations.error && (
        <p role="alert" className="error">
          {messageOf(invitations.error)}
        </p>
      )}
      {invitations.data &&
        (invitations.data.invitations.length === 0 ? (
          <p>No pending invitations.</p>
        ) : (
          <Table caption="Pending invitations" head={['Email', 'Role', 'Sent', 'Expires', 'Actions']}>
            {invitations.data.invitations.map((invitation) => (
              <tr key={invitation.id}>
                <td className="wrap">{invitation.email}</td>
                <td>{roleLabels[invitation.role]}</td>
                <td>{formatDateTime(invitation.createdAt)}</td>
                <td>{formatDateTime(invitation.expiresAt)}</td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy}
                    aria-label={`Revoke the invitation to ${invitation.email}`}
                    onClick={() =>
                      act(async () => {
                        await api.org.invitations.revoke.mutate({ organizationId, invitationId: invitation.id });
                        return `The invitation to ${invitation.email} is revoked.`;
                      })
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        ))}
    </Card>
  );
}

function TransferOwnership(props: { members: Member[]; busy: boolean; onTransfer: (member: Member) => void; children: ReactNode }) {
  const { members, busy, onTransfer, children } = props;
  const [userId, setUserId] = useState('');
  const chosen = members.find((member) => member.userId === userId);
  return (
    <Card title="Ownership">
      <p>Make another member the owner. You become an admin. It asks for a fresh proof that it is you.</p>
      <div className="inline-form">
        <div className="field">
          <label htmlFor="transfer-to">New owner</label>
          <select id="transfer-to" value={userId} onChange={(event) => setUserId(event.target.value)}>
            <option value="">Choose a member</option>
            {members.map((member) => (
              <option key={member.userId} value={member.userId}>
                {member.name ? `${member.name} (${member.email})` : member.email}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <button type="button" className="danger" disabled={busy || !chosen} onClick={() => chosen && onTransfer(chosen)}>
            Transfer ownership…
          </button>
        </div>
      </div>
      {children}
    </Card>
  );
}

function OrganizationAudit({ organizationId, members }: { organizationId: string; members: Member[] }) {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors.at(-1);
  const events = useQuery(
    trpc.org.audit.queryOptions(
      { organizationId, limit: auditPageSize, ...(cursor ? { cursor } : {}) },
      { placeholderData: (previous) => previous },
    ),
  );
  const who = (userId: string | null) => (userId ? (members.find((member) => member.userId === userId)?.email ?? userId) : '—');
  return (
    <Card title="Audit events">
      {events.error && (
        <p role="alert" className="error">
          {messageOf(events.error)}
        </p>
      )}
      {!events.data && !events.error && <p className="loading">Loading…</p>}
      {events.data &&
        (events.data.items.length === 0 ? (
          <p>No events yet.</p>
        ) : (
          <Table caption="Audit events, newest first" head={['Time', 'Event', 'About', 'By', 'Details']}>
            {events.data.items.map((item) => (
              <tr key={item.id}>
                <td>{formatDateTime(item.at)}</td>
                <td>{item.type}</td>
                <td className="who">{who(item.userId)}</td>
                <td className="who">{who(item.actorId)}</td>
                <td className="wrap details">{item.details ? describeDetails(item.details, who) : '—'}</td>
              </tr>
            ))}
          </Table>
        ))}
      {events.data && (
        <nav className="pager" aria-label="Pages of audit events">
          <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </button>
          <span className="muted">Page {cursors.length}</span>
          <button
            type="button"
            className="secondary"
            disabled={!events.data.nextCursor}
            onClick={() => events.data.nextCursor && setCursors([...cursors, events.data.nextCursor])}
          >
            Older
          </button>
        </nav>
      )}
    </Card>
  );
}

/** An event's details as `key: value` pairs, members' ids as their addresses. */
function describeDetails(details: unknown, who: (userId: string | null) => string): string {
  if (typeof details !== 'object' || details === null) return String(details);
  return Object.entries(details)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? (value.startsWith('usr_') ? who(value) : value) : JSON.stringify(value);
      return `${key}: ${text}`;
    })
    .join(', ');
}

function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls sideways must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-scroll" aria-label={caption} tabIndex={0}>
      <table className="org-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((label) => (
              <th key={label} scope="col">
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </section>
  );
}
