import { describeReason } from '@iam/shared';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { useTRPC, useTRPCClient } from '../../api';
import { Announcements, Card, Field } from '../../components/Form';
import { useStepUp } from '../../components/StepUp';
import { useAction } from '../../components/useAction';
import { messageOf } from '../../errors';
import { countryName, describeDevice, describeLocation, formatDateTime } from '../../format';
import { AdminNav } from './AdminNav';
import './admin.css';

/** Destructive admin calls take a step-up for this action (docs/api.md, admin). */
const stepUpAction = 'admin';

type Action = 'disable' | 'enable' | 'revokeSessions' | 'resetMfa' | 'delete';

const confirmations: Record<Exclude<Action, 'enable'>, { question: string; consequence: string; yes: string }> = {
  disable: {
    question: 'Disable this user?',
    consequence: 'Every session ends now, and no way of signing in works until the account is enabled again.',
    yes: 'Yes, disable',
  },
  revokeSessions: {
    question: 'Sign this user out everywhere?',
    consequence: 'Every live session ends now.',
    yes: 'Yes, sign out everywhere',
  },
  resetMfa: {
    question: 'Reset the second factors?',
    consequence: 'The authenticator app, the backup codes and the passkeys are removed, and the user is mailed that it happened.',
    yes: 'Yes, reset',
  },
  delete: {
    question: 'Delete this user for good?',
    consequence: 'Their sessions end and their personal data is erased. It cannot be undone.',
    yes: 'Yes, delete',
  },
};

/** One user as the service knows them, and what an operator may do about them. */
export function AdminUserDetailPage() {
  const { id = '' } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const [, navigate] = useLocation();
  const detail = useQuery(trpc.admin.users.get.queryOptions({ userId: id }));
  const [confirming, setConfirming] = useState<Exclude<Action, 'enable'> | null>(null);
  const [reason, setReason] = useState('');
  const [roles, setRoles] = useState<string | null>(null);
  const action = useAction(() => queryClient.invalidateQueries({ queryKey: trpc.admin.users.pathKey() }));
  const { busy, error, status } = action;
  const act = (work: () => Promise<string>) => {
    setConfirming(null);
    action.act(work);
  };

  const perform = (action: Action) =>
    act(async () => {
      const userId = id;
      switch (action) {
        case 'disable': {
          const note = reason.trim();
          await stepUp.run(stepUpAction, (stepUpToken) =>
            api.admin.users.disable.mutate({ userId, stepUpToken, ...(note ? { reason: note } : {}) }),
          );
          setReason('');
          return 'The user is disabled and signed out everywhere.';
        }
        case 'enable':
          await stepUp.run(stepUpAction, (stepUpToken) => api.admin.users.enable.mutate({ userId, stepUpToken }));
          return 'The user can sign in again.';
        case 'revokeSessions': {
          const { count } = await api.admin.users.revokeSessions.mutate({ userId });
          return `${count} ${count === 1 ? 'session' : 'sessions'} ended.`;
        }
        case 'resetMfa':
          await stepUp.run(stepUpAction, (stepUpToken) => api.admin.users.resetMfa.mutate({ userId, stepUpToken }));
          return 'The second factors are removed.';
        case 'delete':
          await stepUp.run(stepUpAction, (stepUpToken) => api.admin.users.delete.mutate({ userId, stepUpToken }));
          queryClient.removeQueries({ queryKey: trpc.admin.users.get.queryKey({ userId }) });
          navigate('/admin/users');
          return 'The user is deleted.';
      }
    });

  if (detail.error)
    return (
      <>
        <AdminNav />
        <h1>User</h1>
        <p role="alert" className="error">
          {messageOf(detail.error)}
        </p>
        <Link href="/admin/users">Back to users</Link>
      </>
    );
  if (!detail.data) return <p className="loading">Loading…</p>;
  const user = detail.data;
  const roleText = roles ?? user.roles.join(', ');

  return (
    <>
      <AdminNav />
      <h1 className="long-title">{user.email}</h1>
      <Announcements status={status} error={error} />
      <Card title="Profile">
        <dl className="facts">
          <dt>Status</dt>
          <dd className={user.disabled ? 'status-disabled' : undefined}>
            {user.disabled ? `Disabled${user.disabledReason ? `: ${user.disabledReason}` : ''}` : 'Active'}
          </dd>
          <dt>Name</dt>
          <dd>{user.name ?? '—'}</dd>
          <dt>Email</dt>
          <dd>
            {user.email} {user.emailVerified ? '(verified)' : '(not verified)'}
          </dd>
          <dt>User id</dt>
          <dd>{user.id}</dd>
          <dt>Member since</dt>
          <dd>{formatDateTime(user.createdAt)}</dd>
          <dt>Last sign-in</dt>
          <dd>{user.lastSignInAt ? formatDateTime(user.lastSignInAt) : 'Never'}</dd>
          <dt>Roles</dt>
          <dd>{user.roles.join(', ') || 'None'}</dd>
        </dl>
        <p>
          <Link href={`/admin/audit?userId=${encodeURIComponent(user.id)}`}>This user's audit events</Link>
        </p>
      </Card>

      <Card title="Actions">
        {confirming ? (
          <div className="confirm">
            <p>
              <strong>{confirmations[confirming].question}</strong> {confirmations[confirming].consequence}
            </p>
            {confirming === 'disable' && (
              <Field label="Reason (optional)" name="disable-reason" value={reason} onChange={setReason} required={false} />
            )}
            <button type="button" className="danger" disabled={busy} onClick={() => perform(confirming)}>
              {confirmations[confirming].yes}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        ) : (
          <div className="actions">
            {user.disabled ? (
              <button type="button" disabled={busy} onClick={() => perform('enable')}>
                Enable user
              </button>
            ) : (
              <button type="button" className="danger" disabled={busy} onClick={() => setConfirming('disable')}>
                Disable user…
              </button>
            )}
            <button
              type="button"
              className="secondary"
              disabled={busy || user.sessionCount === 0}
              onClick={() => setConfirming('revokeSessions')}
            >
              Sign out everywhere…
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming('resetMfa')}>
              Reset second factors…
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => setConfirming('delete')}>
              Delete user…
            </button>
          </div>
        )}
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const next = roleText
              .split(/[\s,]+/)
              .map((role) => role.trim())
              .filter(Boolean);
            act(async () => {
              const result = await stepUp.run(stepUpAction, (stepUpToken) =>
                api.admin.users.setRoles.mutate({ userId: id, roles: next, stepUpToken }),
              );
              setRoles(null);
              return `Roles: ${result.roles.join(', ') || 'none'}.`;
            });
          }}
        >
          <Field label="Roles (comma-separated)" name="roles" value={roleText} onChange={setRoles} required={false} />
          <button type="submit" className="secondary" disabled={busy}>
            Save roles
          </button>
        </form>
      </Card>

      <Card title="Second factors">
        <dl className="facts">
          <dt>Authenticator app</dt>
          <dd>{user.mfa.totp ? `On${user.mfa.totpEnabledAt ? ` since ${formatDateTime(user.mfa.totpEnabledAt)}` : ''}` : 'Off'}</dd>
          <dt>Backup codes left</dt>
          <dd>{user.mfa.backupCodesLeft}</dd>
          <dt>Passkeys</dt>
          <dd>{user.mfa.passkeys}</dd>
        </dl>
        {user.passkeys.length > 0 && (
          <Table caption="Passkeys" head={['Name', 'Added', 'Last used', 'Synced']}>
            {user.passkeys.map((passkey) => (
              <tr key={passkey.id}>
                <td className="wrap">{passkey.name}</td>
                <td>{formatDateTime(passkey.createdAt)}</td>
                <td>{passkey.lastUsedAt ? formatDateTime(passkey.lastUsedAt) : 'Never'}</td>
                <td>{passkey.backedUp ? 'Yes' : 'No'}</td>
              </tr>
            ))}
          </Table>
        )}
      </Card>

      <Card title={`Sessions (${user.sessionCount} live)`}>
        {user.sessions.length === 0 ? (
          <p>No live sessions.</p>
        ) : (
          <Table caption="Live sessions" head={['Device', 'Place', 'Address', 'Started', 'Last used', 'Checks']}>
            {user.sessions.map((session) => (
              <tr key={session.id}>
                <td>
                  {describeDevice(session.device)}
                  {session.trusted ? ' (trusted)' : ''}
                </td>
                <td>{describeLocation(session.location)}</td>
                <td>{session.ip ?? '—'}</td>
                <td>{formatDateTime(session.createdAt)}</td>
                <td>{formatDateTime(session.lastUsedAt)}</td>
                <td className="wrap">
                  {session.verdict
                    ? session.verdict.reasons.length > 0
                      ? session.verdict.reasons.map(describeReason).join(' ')
                      : `Passed (${session.verdict.outcome})`
                    : '—'}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Card>

      <Card title="Devices">
        {user.devices.length === 0 ? (
          <p>No devices seen.</p>
        ) : (
          <Table caption="Devices" head={['Device', 'Last address', 'Place', 'First seen', 'Last seen', 'Trusted']}>
            {user.devices.map((device) => (
              <tr key={device.id}>
                <td>{describeDevice({ browser: device.browser, os: device.os, type: device.deviceType })}</td>
                <td>{device.lastIp ?? '—'}</td>
                <td>
                  {[device.city, device.region, device.country ? countryName(device.country) : null].filter(Boolean).join(', ') || '—'}
                </td>
                <td>{formatDateTime(device.firstSeenAt)}</td>
                <td>{formatDateTime(device.lastSeenAt)}</td>
                <td>{device.trustedAt ? `Since ${formatDateTime(device.trustedAt)}` : 'No'}</td>
              </tr>
            ))}
          </Table>
        )}
      </Card>

      <Card title="Linked accounts">
        {user.linkedAccounts.length === 0 ? (
          <p>None.</p>
        ) : (
          <Table caption="Linked accounts" head={['Provider', 'Email', 'Linked']}>
            {user.linkedAccounts.map((account) => (
              <tr key={`${account.provider}:${account.email ?? ''}`}>
                <td>{account.provider}</td>
                <td className="wrap">{account.email ?? '—'}</td>
                <td>{formatDateTime(account.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {stepUp.prompt}
    </>
  );
}

function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls sideways must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-scroll" aria-label={caption} tabIndex={0}>
      <table className="admin-table">
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
