import type { Transaction } from '../../db/client';
import type { ChallengeRow } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import type { Services } from '../services';
import { normalizeEmail } from '../users/email';
import { findUserById } from '../users/users';
import { sendLoginCode } from './loginChallenge';
import { completeSignIn, openSession, type SignedIn } from './signIn';
import { sendVerificationEmail } from './verificationEmail';

/**
 * Completes a sign-in challenge by code or by its emailed link. The tokens go to whoever
 * completes it, in this request: the code is the proof (API.md, Challenges).
 */
export async function completeLoginChallenge(
  services: Services,
  input: { challengeId: string; code: string } | { token: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const onSuccess = async (tx: Transaction, challenge: ChallengeRow) => {
    const user = await findUserById(tx, challenge.userId);
    if (!user) throw new IamError('CHALLENGE_INVALID');
    const session = await openSession(services, tx, user, client);
    await recordAudit(tx, {
      type: 'login.succeeded',
      at: services.clock.now(),
      userId: user.id,
      sessionId: session.sessionId,
      client,
      data: { challenge: challenge.id },
    });
    return { user, session };
  };
  const { user, session } =
    'token' in input
      ? await services.challenges.consumeLink({ token: input.token, purpose: 'login' }, onSuccess)
      : await services.challenges.consumeCode({ challengeId: input.challengeId, code: input.code, purpose: 'login' }, onSuccess);
  // The owner proved control of the mailbox: the account is no longer under suspicion.
  await services.limits.get('loginFailuresPerEmail').reset(normalizeEmail(user.email));
  return completeSignIn(services, user, session);
}

/** Sends a fresh code for a live challenge; the previous code and link stop working. */
export async function resendChallenge(services: Services, challengeId: string, client: ClientInfo): Promise<{ status: 'sent' }> {
  const issued = await services.challenges.resend(challengeId);
  const user = await findUserById(services.db, issued.userId);
  if (!user) throw new IamError('CHALLENGE_INVALID');
  if (issued.purpose === 'verify_email') await sendVerificationEmail(services, user.email, issued);
  else await sendLoginCode(services, user.email, issued, client, []);
  return { status: 'sent' };
}
