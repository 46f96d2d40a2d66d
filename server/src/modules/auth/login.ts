import { eq } from 'drizzle-orm';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import type { LimitName } from '../rateLimit/limits';
import type { Services } from '../services';
import { normalizeEmail } from '../users/email';
import { hashPassword, passwordNeedsRehash, verifyDummyPassword, verifyPassword } from '../users/password';
import { findUserByEmail } from '../users/users';
import { type LoginChallenge, startEmailChallenge } from './loginChallenge';
import { completeSignIn, openSession, type SignedIn } from './signIn';
import { sendVerificationEmail } from './verificationEmail';

export type LoginResult = SignedIn | LoginChallenge | { status: 'verification_required'; challengeId: string };

/**
 * Password sign-in. An unknown address and a wrong password fail alike, after the same
 * argon2 work, and count against the same limits (OWASP ASVS 4.0 V2.2.x; NIST SP 800-63B
 * §5.2.2): one account from one IP is refused for a while after 5 consecutive failures,
 * even with the right password; one IP is capped per day across accounts; one account
 * attacked from many IPs is never locked: past the threshold the right password yields an
 * email challenge instead of tokens. An unverified account that knows its password gets a
 * fresh verification code.
 */
export async function login(services: Services, input: { email: string; password: string }, client: ClientInfo): Promise<LoginResult> {
  const { db, clock, logger, limits } = services;
  const identity = normalizeEmail(input.email);
  const pairKey = `${client.ip ?? 'unknown'}|${identity}`;

  const [pair, perIp] = await Promise.all([
    limits.get('loginFailuresPerIpEmail').peek(pairKey),
    client.ip ? limits.get('loginFailuresPerIp').peek(client.ip) : null,
  ]);
  for (const state of [pair, perIp]) {
    if (state?.exceeded) throw new IamError('RATE_LIMITED', { retryAfterSeconds: state.retryAfterSeconds });
  }

  const user = await findUserByEmail(db, input.email);
  const passwordOk = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyDummyPassword(input.password);
  if (!user || !passwordOk) {
    await recordFailure(services, { identity, pairKey, ip: client.ip });
    if (user) await recordAudit(db, { type: 'login.failed', at: clock.now(), userId: user.id, client });
    throw new IamError('INVALID_CREDENTIALS');
  }
  await limits.get('loginFailuresPerIpEmail').reset(pairKey);

  if (user.emailVerifiedAt === null) {
    const challenge = await db.transaction((tx) =>
      services.challenges.issue(tx, { userId: user.id, purpose: 'verify_email', data: { passwordHash: user.passwordHash } }),
    );
    await sendVerificationEmail(services, user.email, challenge);
    return { status: 'verification_required', challengeId: challenge.challengeId };
  }

  const attacked = await limits.get('loginFailuresPerEmail').peek(identity);
  if (attacked.consumed >= limits.get('loginFailuresPerEmail').spec.points) {
    return startEmailChallenge(services, user, client, ['many_failed_attempts']);
  }

  if (user.passwordHash && passwordNeedsRehash(user.passwordHash)) {
    // Parameters moved on since this hash was made; upgrade it while we hold the password.
    const passwordHash = await hashPassword(input.password);
    await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    logger.info({ userId: user.id }, 'password hash upgraded');
  }

  const session = await db.transaction(async (tx) => {
    const created = await openSession(services, tx, user, client);
    await recordAudit(tx, { type: 'login.succeeded', at: clock.now(), userId: user.id, sessionId: created.sessionId, client });
    return created;
  });
  return completeSignIn(services, user, session);
}

/** Counts a failure everywhere it matters; the counters that block start their block on the last allowed failure. */
async function recordFailure(services: Services, keys: { identity: string; pairKey: string; ip: string | null }): Promise<void> {
  const { limits } = services;
  const counted: Array<[LimitName, string]> = [
    ['loginFailuresPerIpEmail', keys.pairKey],
    ['loginFailuresPerEmail', keys.identity],
  ];
  if (keys.ip) counted.push(['loginFailuresPerIp', keys.ip]);
  await Promise.all(
    counted.map(async ([name, key]) => {
      const limiter = limits.get(name);
      const state = await limiter.hit(key);
      const { points, blockInSeconds } = limiter.spec;
      if (blockInSeconds && state.consumed >= points) await limiter.block(key, blockInSeconds);
    }),
  );
}
