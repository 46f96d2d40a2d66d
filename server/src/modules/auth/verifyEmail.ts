import { and, eq, isNull } from 'drizzle-orm';
import type { Executor, Transaction } from '../../db/client';
import { type ChallengeRow, challenges, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { challengeIdOfLink } from '../links/links';
import { normalizeEmail } from '../users/email';
import { hashPassword } from '../users/password';
import { findUserById } from '../users/users';
import type { Services } from './services';
import { completeSignIn, openSession, type SignedIn } from './signIn';

export type VerifyEmailInput = ({ challengeId: string; code: string } | { token: string }) & { password?: string | undefined };

/**
 * What a pending sign-up carries until its address is verified: its credentials and the
 * device canary (`iam_cid`) of the browser that made it, so that they apply only there.
 */
export function pendingCredentials(
  client: ClientInfo,
  credentials: { passwordHash: string | null; name?: string | null; email?: string },
): Record<string, unknown> {
  return { ...credentials, canary: client.canary };
}

/**
 * Completes a sign-up (or an unverified sign-in) by code or by the emailed link, and signs in.
 *
 * Pre-hijacking (OWASP ASVS 4.0 V2.5, account takeover through an unverified registration):
 * anyone can sign up with someone else's address, so a pending password is applied only when
 * the code or link is used in the browser that chose it (the canary it signed up from). From
 * any other browser the address owner proves the mailbox and sets a password of their own
 * (`PASSWORD_REQUIRED` until they send one, thrown inside the consuming transaction so that
 * nothing is spent or changed); every pending password and name is discarded.
 */
export async function verifyEmail(services: Services, input: VerifyEmailInput, client: ClientInfo): Promise<SignedIn> {
  // The verifier's own password is judged and hashed before any row is locked.
  let ownPasswordHash: string | null = null;
  if (input.password !== undefined) {
    const owner = await ownerOfPendingVerification(services, input);
    if (owner) {
      await services.passwordPolicy.check(input.password, { email: owner.email, name: owner.name ?? undefined });
      ownPasswordHash = await hashPassword(input.password);
    }
  }

  const onSuccess = async (tx: Transaction, challenge: ChallengeRow) => {
    const data = challenge.data ?? {};
    // A decoy (sign-up of a taken address) never opens, even to a lucky guess.
    if (data.decoy === true) throw new IamError('CODE_INVALID');
    const user = await findUserById(tx, challenge.userId);
    if (!user) throw new IamError('CHALLENGE_INVALID');
    const now = services.clock.now();
    const sameBrowser = typeof data.canary === 'string' && client.canary !== null && data.canary === client.canary;
    const pendingHash = sameBrowser && typeof data.passwordHash === 'string' ? data.passwordHash : null;
    const passwordHash = ownPasswordHash ?? pendingHash;
    if (passwordHash === null) throw new IamError('PASSWORD_REQUIRED');
    // Whatever someone else's sign-up chose goes with their password.
    const name = sameBrowser ? (typeof data.name === 'string' ? data.name : user.name) : null;
    // The spelling of the address the verifying person typed (the same address, another case).
    const email =
      sameBrowser &&
      user.emailVerifiedAt === null &&
      typeof data.email === 'string' &&
      normalizeEmail(data.email) === normalizeEmail(user.email)
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
  services.users.invalidate(user.id);
  return completeSignIn(services, user, session);
}

/** The account a code or link would verify, read without locks (judged again when consumed). */
async function ownerOfPendingVerification(services: Services, input: VerifyEmailInput) {
  const challengeId = 'token' in input ? await challengeIdOfLink(services.db, input.token) : input.challengeId;
  if (!challengeId) return null;
  const [row] = await (services.db as Executor)
    .select({ userId: challenges.userId, purpose: challenges.purpose })
    .from(challenges)
    .where(eq(challenges.id, challengeId));
  return row?.purpose === 'verify_email' ? findUserById(services.db, row.userId) : null;
}
