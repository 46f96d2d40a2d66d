import { eq } from 'drizzle-orm';
import { runTransaction } from '../../db/client';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { type AccountWithHistory, accountWithHistory } from '../devices/history';
import { IamError } from '../errors/iamError';
import type { LimitName } from '../rateLimit/limits';
import type { LimitState } from '../rateLimit/rateLimiter';
import { domainOfEmail } from '../sso/domains';
import { refuseForSso } from '../sso/policy';
import { normalizeEmail } from '../users/email';
import { hashPassword, passwordNeedsRehash, verifyDummyPassword, verifyPassword } from '../users/password';
import type { LoginChallenge } from './loginChallenge';
import type { Services } from './services';
import { type SignedIn, signInOrChallenge } from './signIn';
import { sendVerificationEmail } from './verificationEmail';
import { pendingCredentials } from './verifyEmail';

export type LoginResult = SignedIn | LoginChallenge | { status: 'verification_required'; challengeId: string };

/**
 * Password sign-in. An unknown address and a wrong password fail alike, after the same
 * argon2 work, and count against the same limits (OWASP ASVS 4.0 V2.2.x; NIST SP 800-63B
 * §5.2.2): one account from one IP is refused for a while after 5 consecutive failures,
 * even with the right password; one IP is capped per day across accounts; one account
 * attacked from many IPs is never locked: past the threshold the right password yields an
 * email challenge instead of tokens. The right password then goes through the sign-in
 * checks like every way in (`signInOrChallenge`): an enrolled authenticator, a new device,
 * country or network… ask for a challenge. An unverified account that
 * knows its password gets a fresh verification code.
 */
export async function login(services: Services, input: { email: string; password: string }, client: ClientInfo): Promise<LoginResult> {
  const { db, clock, limits } = services;
  const identity = normalizeEmail(input.email);
  const pairKey = `${client.ip ?? 'unknown'}|${identity}`;

  // Reserve a failure before judging the password, atomically, so parallel or batched
  // guesses cannot all be judged before any is counted; a success gives it back.
  const reservations: Array<[LimitName, string]> = [['loginFailuresPerIpEmail', pairKey]];
  if (client.ip) reservations.push(['loginFailuresPerIp', client.ip]);
  // The account is read meanwhile, with all its sign-in needs afterwards: the history the
  // sign-in checks judge, its live sessions and this browser's session (one statement); nothing
  // is judged before the reservation. An unknown address reads as little as an account with no
  // devices, and both wait for the reservations anyway.
  const [reserved, account] = await Promise.all([
    Promise.all(reservations.map(([name, key]) => limits.get(name).hit(key))),
    accountWithHistory(db, input.email, client, {
      now: clock.now(),
      idleInSeconds: services.settings.lifetimes.sessionIdleInSeconds,
      domain: domainOfEmail(identity),
    }),
  ]);
  const refusal = reserved.find((state) => state.exceeded);
  if (refusal) {
    services.metrics.logins.inc({ outcome: 'refused' });
    throw new IamError('RATE_LIMITED', { retryAfterSeconds: refusal.retryAfterSeconds });
  }
  const user = account?.user ?? null;

  // Whether the account is under attack from many IPs does not depend on this password: it is
  // read while the hash runs (on the thread pool), for every attempt alike, and used only once
  // the password proved right.
  // A failure of that read never stands in the way of counting a wrong password.
  const attackedState = limits.get('loginFailuresPerEmail').peek(identity);
  attackedState.catch(() => undefined);
  const passwordOk = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyDummyPassword(input.password);
  if (!account || !user || !passwordOk) {
    await Promise.all([
      ...reservations.map(async ([name, key], i) => {
        // The last allowed failure starts the block (15 min for one account from one IP).
        const { points, blockInSeconds } = limits.get(name).spec;
        if (blockInSeconds && (reserved[i]?.consumed ?? 0) >= points) await limits.get(name).block(key, blockInSeconds);
      }),
      limits.get('loginFailuresPerEmail').hit(identity),
    ]);
    if (user) await recordAudit(db, { type: 'login.failed', at: clock.now(), userId: user.id, client });
    services.metrics.logins.inc({ outcome: 'invalid_credentials' });
    throw new IamError('INVALID_CREDENTIALS');
  }
  // The reserved failure is given back beside what follows, and waited for before answering: a
  // reset that ran after the answer could erase the reservation of this client's next attempt
  // (OWASP ASVS 4.0 V2.2.1). Whatever the answer, it is settled first.
  const givenBack = limits.resetAndReward(['loginFailuresPerIpEmail', pairKey], client.ip ? ['loginFailuresPerIp', client.ip] : null);
  const [result] = await Promise.all([signInWithPassword(services, account, input.password, client, await attackedState), givenBack]);
  return result;
}

/** The password proved right: a verification code, a challenge or a session. */
async function signInWithPassword(
  services: Services,
  account: AccountWithHistory,
  password: string,
  client: ClientInfo,
  attackedState: LimitState,
): Promise<LoginResult> {
  const { db, logger, limits } = services;
  const { user, history, prior } = account;
  // Only now, with the password proven: a member whose organization requires SSO goes there.
  if (account.ssoRequiredBy) await refuseForSso(db, user, account.ssoRequiredBy, { method: 'password', client, now: services.clock.now() });
  if (user.emailVerifiedAt === null) {
    const challenge = await runTransaction(db, (tx) =>
      services.challenges.issue(tx, {
        userId: user.id,
        purpose: 'verify_email',
        data: pendingCredentials(client, { passwordHash: user.passwordHash }),
      }),
    );
    await sendVerificationEmail(services, user.email, challenge);
    services.metrics.logins.inc({ outcome: 'verification_required' });
    return { status: 'verification_required', challengeId: challenge.challengeId };
  }

  if (user.passwordHash && passwordNeedsRehash(user.passwordHash)) {
    // Parameters moved on since this hash was made; upgrade it while we hold the password.
    const passwordHash = await hashPassword(password);
    await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    logger.info({ userId: user.id }, 'password hash upgraded');
  }

  const attacked = attackedState.consumed >= limits.get('loginFailuresPerEmail').spec.points;
  const result = await signInOrChallenge(services, user, client, {
    method: 'password',
    reasons: attacked ? ['many_failed_attempts'] : [],
    known: { history, prior },
  });
  services.metrics.logins.inc({ outcome: result.status === 'authenticated' ? 'authenticated' : 'challenged' });
  return result;
}
