import type { Transaction } from '../../db/client';
import type { ChallengeRow } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { normalizeEmail } from '../users/email';
import { findUserById } from '../users/users';
import { sendLoginCode } from './loginChallenge';
import { type PasskeyAnswer, provePasskeyForChallenge } from './passkeyProof';
import type { Services } from './services';
import { completeSignIn, openSession, type SignedIn } from './signIn';
import { sendVerificationEmail } from './verificationEmail';

/**
 * Completes a sign-in challenge, or a refresh challenge raised by the anomaly checks, by
 * code, by its emailed link, or with a passkey of the account when the challenge lists one. The tokens go to whoever completes it, in this request: the
 * code is the proof (docs/api.md, Challenges), and passing it proves the completing device,
 * which becomes trusted with its current fingerprint.
 * - sign-in: a new session;
 * - refresh, completed on the session's own device (it travelled, changed network…): the
 *   session continues, rotated, with the device's fingerprint updated;
 * - refresh, completed elsewhere: a new session for the completing device; the doubted
 *   session is left as it was, still asking for proof.
 */
export async function completeLoginChallenge(
  services: Services,
  input: { challengeId: string; code: string } | { token: string } | { challengeId: string; passkey: PasskeyAnswer },
  client: ClientInfo,
): Promise<SignedIn> {
  const onSuccess = async (tx: Transaction, challenge: ChallengeRow) => {
    const user = await findUserById(tx, challenge.userId);
    if (!user) throw new IamError('CHALLENGE_INVALID');
    const sessionId = typeof challenge.data?.sessionId === 'string' ? challenge.data.sessionId : null;
    const continued =
      challenge.purpose === 'refresh' && sessionId ? await services.sessions.continueOnProvenDevice(tx, sessionId, client) : null;
    const session =
      continued ??
      (await openSession(services, tx, user, client, {
        trusted: true,
        // session.list shows why this sign-in was asked for proof (docs/api.md, sign-in risk).
        verdict: {
          decision: 'pass',
          reasons: ['challenge_passed'],
          logged: [],
          at: services.clock.now().toISOString(),
          lastChallenge: { reasons: reasonsOf(challenge), at: challenge.createdAt.toISOString() },
        },
      }));
    await recordAudit(tx, {
      type: challenge.purpose === 'refresh' ? 'session.challenge_passed' : 'login.succeeded',
      at: services.clock.now(),
      userId: user.id,
      sessionId: session.sessionId,
      client,
      data: { challenge: challenge.id, continued: continued !== null },
    });
    return { user, session };
  };
  const purposes = ['login', 'refresh'] as const;
  const { user, session } =
    'token' in input
      ? await services.challenges.consumeLink({ token: input.token, purpose: purposes }, onSuccess)
      : 'passkey' in input
        ? await services.challenges.consumeWithPasskey(
            { challengeId: input.challengeId, userId: (await provePasskeyForChallenge(services, input, client)).userId, purpose: purposes },
            onSuccess,
          )
        : await services.challenges.consumeCode({ challengeId: input.challengeId, code: input.code, purpose: purposes }, onSuccess);
  // The owner proved control of the mailbox (or holds a passkey): the account is no longer under suspicion.
  await services.limits.get('loginFailuresPerEmail').reset(normalizeEmail(user.email));
  return completeSignIn(services, user, session);
}

function reasonsOf(challenge: ChallengeRow): string[] {
  const reasons = challenge.data?.reasons;
  return Array.isArray(reasons) ? reasons.filter((reason): reason is string => typeof reason === 'string') : [];
}

/** Sends a fresh code for a live challenge; the previous code and link stop working. */
export async function resendChallenge(services: Services, challengeId: string, client: ClientInfo): Promise<{ status: 'sent' }> {
  const issued = await services.challenges.resend(challengeId);
  // A decoy (the sign-up of an address already verified) is resent like any challenge, with the
  // same budget and spacing, so the answer tells nothing; but nothing is mailed, and no code opens it.
  if (issued.decoy) return { status: 'sent' };
  const user = await findUserById(services.db, issued.userId);
  if (!user) throw new IamError('CHALLENGE_INVALID');
  if (issued.purpose === 'verify_email') await sendVerificationEmail(services, user.email, issued);
  else if (issued.purpose === 'sign_in') await sendLoginCode(services, user.email, issued, client, [], undefined, 'sign-in-link');
  else await sendLoginCode(services, user.email, issued, client, []);
  return { status: 'sent' };
}
