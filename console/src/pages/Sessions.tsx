import type { RouterOutputs } from '@iam/client';
import { describeReason } from '@iam/shared';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC, useTRPCClient } from '../api';
import { Card } from '../components/Form';
import { useAction } from '../components/useAction';
import { messageOf } from '../errors';
import { describeDevice, describeLocation, formatAgo, formatDateTime } from '../format';

type Session = RouterOutputs['session']['list'][number];

/**
 * How often the list is asked for again: a session ended elsewhere (revoked on another device,
 * a password change) ends here within this time, and the client sends the user to sign-in.
 */
const refetchIntervalInMs = 15_000;

/** The user's signed-in devices: where, when, why a check asked for proof, and sign-out for each. */
export function SessionsPage() {
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const sessions = useQuery(
    trpc.session.list.queryOptions(undefined, { refetchInterval: refetchIntervalInMs, refetchOnWindowFocus: true }),
  );
  const { busy, error, status, act } = useAction(() => queryClient.invalidateQueries({ queryKey: trpc.session.list.queryKey() }));

  if (!sessions.data) {
    return sessions.error ? (
      <p role="alert" className="error">
        {messageOf(sessions.error)}
      </p>
    ) : (
      <p className="loading">Loading…</p>
    );
  }
  const others = sessions.data.filter((session) => !session.current);
  return (
    <>
      <h1>Sessions and devices</h1>
      <p>These browsers and apps are signed in to your account. If you do not recognise one, sign it out and change your password.</p>
      <ul className="sessions" aria-label="Signed-in devices">
        {sessions.data.map((session) => (
          <SessionItem
            key={session.id}
            session={session}
            busy={busy}
            onRevoke={() =>
              act(async () => {
                await api.session.revoke.mutate({ sessionId: session.id });
                return `${describeDevice(session.device)} is signed out.`;
              })
            }
          />
        ))}
      </ul>
      {others.length > 0 && (
        <Card title="Everywhere else">
          <p>Sign out every other browser and app, and keep this one signed in.</p>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() =>
              act(async () => {
                const { count } = await api.session.revokeAll.mutate({ includeCurrent: false });
                return count === 1 ? 'One other session is signed out.' : `${count} other sessions are signed out.`;
              })
            }
          >
            Sign out everywhere else
          </button>
        </Card>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p role="status">{status}</p>
    </>
  );
}

function SessionItem({ session, busy, onRevoke }: { session: Session; busy: boolean; onRevoke: () => void }) {
  const device = describeDevice(session.device);
  const headingId = `session-${session.id}`;
  return (
    <li className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {device}
        {session.current && <span className="badge">This device</span>}
      </h2>
      <dl className="facts">
        <dt>Location</dt>
        <dd>
          {describeLocation(session.location)}
          {session.ip && <span className="muted"> ({session.ip})</span>}
        </dd>
        <dt>Last seen</dt>
        <dd>
          <time dateTime={session.lastUsedAt.toISOString()} title={formatDateTime(session.lastUsedAt)}>
            {session.current ? 'Now' : formatAgo(session.lastUsedAt)}
          </time>
        </dd>
        <dt>Signed in</dt>
        <dd>
          <time dateTime={session.createdAt.toISOString()}>{formatDateTime(session.createdAt)}</time>
        </dd>
        <dt>Device</dt>
        <dd>{session.trusted ? 'Confirmed with a code or passkey' : 'Not confirmed'}</dd>
      </dl>
      <Verdict verdict={session.verdict} />
      {!session.current && (
        <button type="button" className="secondary" disabled={busy} onClick={onRevoke} aria-label={`Sign out ${device}`}>
          Sign out
        </button>
      )}
    </li>
  );
}

/** "Why was I asked?": what the sign-in checks found, in words. */
function Verdict({ verdict }: { verdict: Session['verdict'] }) {
  if (!verdict) return null;
  if (verdict.outcome === 'passed') return <p className="muted">The sign-in checks found nothing unusual.</p>;
  return (
    <div className="verdict">
      <p>
        {verdict.outcome === 'challenged'
          ? 'We asked for proof that it was you, because:'
          : 'The sign-in checks noticed this, without asking for proof:'}
      </p>
      <ul>
        {verdict.reasons.map((reason) => (
          <li key={reason}>{describeReason(reason)}</li>
        ))}
      </ul>
    </div>
  );
}
