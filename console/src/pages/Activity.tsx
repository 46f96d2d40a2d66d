import type { RouterOutputs } from '@iam/client';
import { describeReason } from '@iam/shared';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTRPC } from '../api';
import { messageOf } from '../errors';
import { formatDateTime } from '../format';

type AuditEvent = RouterOutputs['auth']['activity']['items'][number];

/** How many events a page of `auth.activity` brings. */
const pageSize = 50;

/** Routine renewals of a session's tokens: many a day, nothing a person acts on. */
const routine = new Set(['session.refreshed']);

const methodWords: Partial<Record<string, string>> = {
  password: 'with your password',
  passkey: 'with a passkey',
  oauth: 'with a social account',
  sign_in: 'with a code sent by email',
  token: 'with a link sent by email',
  totp: 'with your authenticator app',
  backup_code: 'with a backup code',
};

const revokeWords: Partial<Record<string, string>> = {
  logout: 'you signed out',
  user: 'you signed it out',
  user_all: 'you signed out everywhere else',
  refresh_reuse: 'its sign-in token was used twice, which can mean it was copied',
  password_change: 'your password changed',
  password_reset: 'your password was reset',
  email_change: 'your email address changed',
  not_me: 'you said it was not you',
  session_limit: 'too many sessions were open',
  replaced: 'you signed in again on that browser',
  admin: 'an administrator ended it',
  account_deleted: 'the account was deleted',
};

const eventWords: Partial<Record<string, string>> = {
  'user.signed_up': 'You created your account',
  'user.email_verified': 'You confirmed your email address',
  'login.succeeded': 'You signed in',
  'login.failed': 'Someone tried to sign in with a wrong password',
  'login.challenged': 'A sign-in was asked for proof that it was you',
  'session.created': 'A new session started',
  'session.revoked': 'A session was signed out',
  'session.refresh_reused': 'A sign-in token was used twice',
  'session.challenged': 'A session was asked for proof that it was you',
  'session.challenge_passed': 'A session proved it was you',
  'challenge.failed': 'A wrong confirmation code was entered',
  'password.reset_requested': 'A password reset was requested',
  'password.reset': 'Your password was reset',
  'password.changed': 'Your password was changed',
  'mfa.totp_enabled': 'You turned on the authenticator app',
  'mfa.totp_disabled': 'You turned off the authenticator app',
  'mfa.backup_code_used': 'A backup code was used',
  'mfa.step_up_started': 'You were asked to confirm it was you',
  'mfa.step_up_verified': 'You confirmed it was you',
  'user.email_change_requested': 'A change of email address was requested',
  'user.email_changed': 'Your email address was changed',
  'user.profile_updated': 'You changed your profile',
  'user.data_exported': 'You downloaded your data',
  'user.roles_changed': 'Your roles were changed',
  'user.disabled': 'Your account was disabled',
  'user.enabled': 'Your account was enabled again',
  'user.sessions_revoked': 'An administrator signed out your sessions',
  'user.mfa_reset': 'An administrator reset your two-step sign-in',
  'oauth.linked': 'A social account was linked',
  'oauth.unlinked': 'A social account was unlinked',
  'passkey.added': 'You added a passkey',
  'passkey.removed': 'You removed a passkey',
  'passkey.counter_regressed': 'A passkey looked copied and was refused',
  'api_key.created': 'You created an API key',
  'api_key.revoked': 'You revoked an API key',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function reasonsOf(details: Record<string, unknown>): string[] {
  const reasons = details.reasons;
  return Array.isArray(reasons) ? reasons.filter((reason): reason is string => typeof reason === 'string') : [];
}

/** One event as a sentence, with its reasons when a check gave some. */
export function describeEvent(event: Pick<AuditEvent, 'type' | 'details'>): { summary: string; reasons: string[] } {
  const details = (event.details ?? {}) as Record<string, unknown>;
  let summary = eventWords[event.type] ?? event.type;
  const method = methodWords[text(details.method) ?? ''];
  if (event.type === 'login.succeeded' && method) summary = `${summary} ${method}`;
  if (event.type === 'session.revoked') {
    const why = revokeWords[text(details.reason) ?? ''];
    if (why) summary = `${summary}: ${why}`;
  }
  if (event.type === 'password.changed' && details.set === true) summary = 'You set a password';
  if (event.type === 'oauth.linked' || event.type === 'oauth.unlinked') {
    const provider = text(details.provider);
    if (provider) summary = `${summary} (${provider})`;
  }
  return { summary, reasons: reasonsOf(details) };
}

/** The user's own security events, newest first, in words, a page at a time (`auth.activity`). */
export function ActivityPage() {
  const trpc = useTRPC();
  const pages = useInfiniteQuery(
    trpc.auth.activity.infiniteQueryOptions({ limit: pageSize }, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
  );
  if (!pages.data) {
    return pages.error ? (
      <p role="alert" className="error">
        {messageOf(pages.error)}
      </p>
    ) : (
      <p className="loading">Loading…</p>
    );
  }
  const events = pages.data.pages.flatMap((page) => page.items).filter((event) => !routine.has(event.type));
  return (
    <>
      <h1>Security activity</h1>
      <p>Sign-ins, changes to your account and what the security checks noticed, newest first.</p>
      {events.length === 0 ? (
        <p>Nothing yet.</p>
      ) : (
        <ol className="events" aria-label="Security events">
          {events.map((event) => {
            const { summary, reasons } = describeEvent(event);
            return (
              <li key={event.id} className="event">
                <p className="event-summary">{summary}</p>
                <p className="muted">
                  <time dateTime={event.at.toISOString()}>{formatDateTime(event.at)}</time>
                  {event.ip && <> · from {event.ip}</>}
                  {!event.byYou && <> · by an administrator</>}
                </p>
                {reasons.length > 0 && (
                  <ul>
                    {reasons.map((reason) => (
                      <li key={reason}>{describeReason(reason)}</li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {pages.hasNextPage && (
        <button type="button" className="secondary" disabled={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>
          Show more
        </button>
      )}
    </>
  );
}
