import { and, eq, isNull } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { type ChallengeRow, challenges, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { normalizeEmail } from '../users/email';
import { findUserById } from '../users/users';
import type { Services } from './services';
import { completeSignIn, openSession, type SignedIn } from './signIn';

/** Completes a sign-up (or an unverified sign-in) by code or by the emailed link, and signs in. */
export async function verifyEmail(
  services: Services,
  input: { challengeId: string; code: string } | { token: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const onSuccess = async (tx: Transaction, challenge: ChallengeRow) => {
    const data = challenge.data ?? {};
    // A decoy (sign-up of a taken address) never opens, even to a lucky guess.
    if (data.decoy === true) throw new IamError('CODE_INVALID');
    const user = await findUserById(tx, challenge.userId);
    if (!user) throw new IamError('CHALLENGE_INVALID');
    const now = services.clock.now();
    const passwordHash = typeof data.passwordHash === 'string' ? data.passwordHash : user.passwordHash;
    const name = typeof data.name === 'string' ? data.name : user.name;
    // The spelling of the address the verifying person typed (the same address, another case).
    const email =
      user.emailVerifiedAt === null && typeof data.email === 'string' && normalizeEmail(data.email) === normalizeEmail(user.email)
        ? data.email
        : user.email;
    await tx
      .update(users)
      .set({ emailVerifiedAt: user.emailVerifiedAt ?? now, passwordHash, name, email, updatedAt: now })
      .where(eq(users.id, user.id));
    // Other pending sign-ups of this address die with this one.
    await tx
      .update(challenges)
      .set({ consumedAt: now })
      .where(and(eq(challenges.userId, user.id), eq(challenges.purpose, 'verify_email'), isNull(challenges.consumedAt)));
    await recordAudit(tx, { type: 'user.email_verified', at: now, userId: user.id, client });
    const verified = { ...user, emailVerifiedAt: user.emailVerifiedAt ?? now, passwordHash, name, email, updatedAt: now };
    // The first sign-in of a new account is not judged (it has no history yet), and proving
    // the mailbox on this device is what a sign-in challenge asks: the device becomes trusted.
    const session = await openSession(services, tx, verified, client, {
      trusted: true,
      verdict: { decision: 'pass', reasons: [], logged: [], at: now.toISOString() },
    });
    return { user: verified, session };
  };

  const { user, session } =
    'token' in input
      ? await services.challenges.consumeLink({ token: input.token, purpose: 'verify_email' }, onSuccess)
      : await services.challenges.consumeCode({ challengeId: input.challengeId, code: input.code, purpose: 'verify_email' }, onSuccess);
  return completeSignIn(services, user, session);
}
