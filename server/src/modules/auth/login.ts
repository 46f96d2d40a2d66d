import { eq } from 'drizzle-orm';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import type { Services } from '../services';
import { hashPassword, passwordNeedsRehash, verifyDummyPassword, verifyPassword } from '../users/password';
import { findUserByEmail } from '../users/users';
import { completeSignIn, openSession, type SignedIn } from './signIn';
import { sendVerificationEmail } from './verificationEmail';

export type LoginResult = SignedIn | { status: 'verification_required'; challengeId: string };

/**
 * Password sign-in. An unknown address and a wrong password fail alike, after the same
 * argon2 work (OWASP ASVS 4.0 V2.2.x). An unverified account that knows its password gets
 * a fresh verification code instead of tokens.
 */
export async function login(services: Services, input: { email: string; password: string }, client: ClientInfo): Promise<LoginResult> {
  const { db, clock, logger } = services;
  const user = await findUserByEmail(db, input.email);
  if (!user?.passwordHash) {
    await verifyDummyPassword(input.password);
    throw new IamError('INVALID_CREDENTIALS');
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    await recordAudit(db, { type: 'login.failed', at: clock.now(), userId: user.id, client });
    throw new IamError('INVALID_CREDENTIALS');
  }

  if (user.emailVerifiedAt === null) {
    const challenge = await db.transaction((tx) =>
      services.challenges.issue(tx, { userId: user.id, purpose: 'verify_email', data: { passwordHash: user.passwordHash } }),
    );
    await sendVerificationEmail(services, user.email, challenge);
    return { status: 'verification_required', challengeId: challenge.challengeId };
  }

  // Seam: rate limits, risk checks and MFA challenges decide here before a session opens.

  if (passwordNeedsRehash(user.passwordHash)) {
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
