import { eq } from 'drizzle-orm';
import { runTransaction } from '../../db/client';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import type { LimitName } from '../rateLimit/limits';
import { normalizeEmail } from '../users/email';
import { hashPassword, passwordNeedsRehash, verifyDummyPassword, verifyPassword } from '../users/password';
import { findUserByEmail } from '../users/users';
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
  const { db, clock, logger, limits } = services;
  const identity = normalizeEmail(input.email);
  const pairKey = `${client.ip ?? 'unknown'}|${identity}`;

  // Reserve a failure before judging the password, atomically, so parallel or batched
  // guesses cannot all be judged before any is counted; a success gives it back.
  const reservations: Array<[LimitName, string]> = [['loginFailuresPerIpEmail', pairKey]];
  if (client.ip) reservations.push(['loginFailuresPerIp', client.ip]);
  // The account is read meanwhile (one round trip saved); nothing is judged before the reservation.
  const [reserved, user] = await Promise.all([
    Promise.all(reservations.map(([name, key]) => limits.get(name).hit(key))),
    findUserByEmail(db, input.email),
  ]);
  const refusal = reserved.find((state) => state.exceeded);
  if (refusal) {
    services.metrics.logins.inc({ outcome: 'refused' });
    throw new IamError('RATE_LIMITED', { retryAfterSeconds: refusal.retryAfterSeconds });
  }

  const passwordOk = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyDummyPassword(input.password);
  if (!user || !passwordOk) {
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
  await Promise.all([
    limits.get('loginFailuresPerIpEmail').reset(pairKey),
    client.ip ? limits.get('loginFailuresPerIp').reward(client.ip) : null,
  ]);

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
    const passwordHash = await hashPassword(input.password);
    await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    logger.info({ userId: user.id }, 'password hash upgraded');
  }

  const attackedState = await limits.get('loginFailuresPerEmail').peek(identity);
  const attacked = attackedState.consumed >= limits.get('loginFailuresPerEmail').spec.points;
  const result = await signInOrChallenge(services, user, client, { method: 'password', reasons: attacked ? ['many_failed_attempts'] : [] });
  services.metrics.logins.inc({ outcome: result.status === 'authenticated' ? 'authenticated' : 'challenged' });
  return result;
}
