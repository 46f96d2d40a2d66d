import { eq, sql } from 'drizzle-orm';
import { type Executor, runTransaction, type Transaction } from '../../db/client';
import { type SessionVerdict, type UserRow, users } from '../../db/tables';
import type { SignInVerdict } from '../anomaly/signInChecks';
import { type AuditEvent, recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import type { AccountHistory, SignInPrior } from '../devices/history';
import { IamError } from '../errors/iamError';
import type { CreatedSession } from '../sessions/sessions';
import type { TokenOrganization } from '../tokens/accessToken';
import { type PublicUser, toPublicUser } from '../users/publicUser';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { type LoginChallenge, startEmailChallenge } from './loginChallenge';
import { queueNewSignInAlert, queueSecurityAlert } from './securityAlert';
import type { Services } from './services';
import { startTotpChallenge } from './totpChallenge';

/** A completed sign-in: the HTTP layer sets the cookies and returns the rest. */
export interface SignedIn {
  status: 'authenticated';
  user: PublicUser;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  sessionId: string;
  sessionExpiresAt: Date;
}

/**
 * Opens the session inside the transaction that proved the user's identity; a first sign-in
 * from a new device of an account that has others queues an alert to the owner in it too.
 * Every way in comes here: a live session of the same user that this browser still holds
 * (its refresh cookie, on this device) is replaced, never kept beside the new one.
 */
export async function openSession(
  services: Services,
  tx: Transaction,
  user: UserRow,
  client: ClientInfo,
  options: {
    trusted?: boolean;
    verdict?: SessionVerdict;
    /** What the sign-in read of the account before the transaction (a password sign-in's one read). */
    prior?: SignInPrior;
    /** More audit rows of the sign-in, written with the session's (`login.succeeded`). */
    audit?: Array<Pick<AuditEvent, 'type' | 'data'>>;
  } = {},
): Promise<CreatedSession> {
  // The account is written, not only read, under its lock: a disable committed meanwhile
  // refuses this session, and one that comes after waits for it and then revokes it with the
  // others. A shared lock would do on one server, but on a multi-primary cluster (Galera) a lock
  // holds on its own node only; two transactions are ordered there only when they write the same
  // row, and the disable writes this one (OWASP ASVS 4.0 V3.3.1: a disabled account keeps no
  // session).
  const [written] = (await tx.execute(
    sql`UPDATE ${users} SET ${users.lastSignInAt} = ${services.clock.now()}, ${users.signInCount} = ${users.signInCount} + 1
      WHERE ${users.id} = ${user.id} AND ${users.disabledAt} IS NULL`,
  )) as unknown as [{ affectedRows: number }];
  if (written.affectedRows === 0) {
    const [current] = await tx.select({ id: users.id }).from(users).where(eq(users.id, user.id)).limit(1);
    throw new IamError(current ? 'USER_DISABLED' : 'UNAUTHENTICATED');
  }
  const session = await services.sessions.create(tx, {
    userId: user.id,
    client,
    trusted: options.trusted ?? false,
    ...(options.verdict ? { verdict: options.verdict } : {}),
    ...(options.prior ? { prior: options.prior } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  });
  if (session.newDevice) await queueNewSignInAlert(services, tx, user, session.newDevice, session.sessionId);
  if (session.evicted) await queueSecurityAlert(services, tx, user, { reason: 'session_limit', client });
  return session;
}

/** Signs the access token once the session is committed. */
export async function completeSignIn(
  services: Services,
  user: UserRow,
  /** `organization`: a refreshed session's active organization, for the token's `org` claims. */
  session: CreatedSession & { organization?: TokenOrganization | null },
): Promise<SignedIn> {
  // The sign-in's transaction revoked these; every instance refuses their access tokens from now on.
  for (const evicted of session.evicted ?? []) services.revocations.add(evicted, services.clock.now());
  if (session.replaced) services.revocations.add(session.replaced, services.clock.now());
  const access = await services.accessTokens.issue({
    userId: user.id,
    sessionId: session.sessionId,
    roles: user.roles,
    organization: session.organization,
  });
  return {
    status: 'authenticated',
    user: toPublicUser(user),
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken: session.refreshToken,
    sessionId: session.sessionId,
    sessionExpiresAt: session.expiresAt,
  };
}

/** How the identity was proven; recorded with every sign-in and its challenge. */
export type SignInMethod = 'password' | 'oauth' | 'passkey' | 'email_code' | 'email_link';

/** A proven identity either gets tokens now or must answer a challenge first. */
export type Admission =
  | { kind: 'open'; verdict: SignInVerdict }
  | { kind: 'challenge'; factor: 'totp' | 'email'; reasons: string[]; verdict: SignInVerdict };

/**
 * The one gate of every sign-in method once the identity is proven (docs/security.md,
 * sign-in risk): the sign-in checks judge it against the account's history, and an enrolled
 * authenticator is always asked for (NIST SP 800-63B §4.2.1, AAL2). `reasons` are findings the
 * method made itself (many failed attempts). A trusted device passes the checks.
 */
export async function admitSignIn(
  services: Services,
  executor: Executor,
  user: UserRow,
  client: ClientInfo,
  options: { reasons?: string[]; multiFactor?: boolean; history?: AccountHistory } = {},
): Promise<Admission> {
  // A disabled account signs in by no method (docs/api.md, admin); said only once the caller proved who they are.
  if (user.disabledAt) throw new IamError('USER_DISABLED');
  const verdict = await services.sessions.assessSignIn(executor, user.id, client, options.history);
  const reasons = [...(options.reasons ?? []), ...verdict.reasons];
  // An enrolled authenticator answers any doubt: an emailed code must never stand in for it.
  // (A multi-factor authenticator, such as a passkey with user verification, is that factor.)
  if (user.totpEnabledAt !== null && !options.multiFactor)
    return { kind: 'challenge', factor: 'totp', reasons: ['totp_enrolled', ...reasons], verdict };
  if (reasons.length > 0) return { kind: 'challenge', factor: 'email', reasons, verdict };
  return { kind: 'open', verdict };
}

/** The verdict a session opened without a challenge starts with (shown in session.list). */
export function admittedVerdict(verdict: SignInVerdict): SessionVerdict {
  return { decision: 'pass', reasons: [], logged: verdict.logged, at: verdict.at };
}

/** Withholds tokens: the challenge the admission asked for, audited with what the checks saw. */
export async function challengeSignIn(
  services: Services,
  user: UserRow,
  client: ClientInfo,
  admission: Extract<Admission, { kind: 'challenge' }>,
  method: SignInMethod,
): Promise<LoginChallenge> {
  // A passkey answers the challenge of any other way in; a passkey sign-in already used one.
  const offerPasskey = method !== 'passkey';
  const challenge =
    admission.factor === 'totp'
      ? await startTotpChallenge(services, user, admission.reasons, offerPasskey)
      : await startEmailChallenge(services, user, client, admission.reasons, { purpose: 'login' }, offerPasskey);
  const now = services.clock.now();
  // The audit row and the security event (webhooks) together.
  await runTransaction(services.db, async (tx) => {
    await recordAudit(tx, {
      type: 'login.challenged',
      at: now,
      userId: user.id,
      client,
      data: {
        method,
        challenge: challenge.challengeId,
        reasons: admission.reasons,
        logged: admission.verdict.logged,
        evidence: admission.verdict.evidence,
      },
    });
    await emitSecurityEvent(
      services,
      tx,
      {
        type: 'session.challenged',
        userId: user.id,
        data: { flow: 'sign_in', factor: admission.factor, reasons: admission.reasons, method },
      },
      now,
    );
  });
  return challenge;
}

/**
 * Signs in a user whose identity the method proved (password, passkey, emailed code or
 * link), through the sign-in checks: tokens, or a challenge.
 */
export async function signInOrChallenge(
  services: Services,
  user: UserRow,
  client: ClientInfo,
  options: {
    method: SignInMethod;
    reasons?: string[];
    mailboxProven?: boolean;
    multiFactor?: boolean;
    /** The account's history and what opening a session needs, when the method read them with the account. */
    known?: { history: AccountHistory; prior: SignInPrior };
  },
): Promise<SignedIn | LoginChallenge> {
  const admission = await admitSignIn(services, services.db, user, client, {
    reasons: options.reasons ?? [],
    multiFactor: options.multiFactor === true,
    ...(options.known ? { history: options.known.history } : {}),
  });
  // A method that proved the mailbox (an emailed code or link) already answered what an email
  // challenge would ask: its findings are recorded as answered, and the device is trusted.
  const answered = options.mailboxProven === true && admission.kind === 'challenge' && admission.factor === 'email';
  if (admission.kind === 'challenge' && !answered) return challengeSignIn(services, user, client, admission, options.method);
  const verdict: SessionVerdict =
    answered && admission.kind === 'challenge'
      ? {
          ...admittedVerdict(admission.verdict),
          reasons: ['challenge_passed'],
          lastChallenge: { reasons: admission.reasons, at: admission.verdict.at },
        }
      : admittedVerdict(admission.verdict);
  const audit = {
    type: 'login.succeeded' as const,
    data: {
      method: options.method,
      ...(answered ? { reasons: admission.verdict.reasons, evidence: admission.verdict.evidence } : {}),
      ...(admission.verdict.logged.length > 0 ? { logged: admission.verdict.logged, evidence: admission.verdict.evidence } : {}),
    },
  };
  // `login.succeeded` goes in with the session's own audit row, one INSERT.
  const session = await runTransaction(services.db, (tx) =>
    openSession(services, tx, user, client, {
      trusted: options.mailboxProven === true,
      verdict,
      audit: [audit],
      ...(options.known ? { prior: options.known.prior } : {}),
    }),
  );
  return completeSignIn(services, user, session);
}
