import type { ClientInfo } from '../devices/clientInfo';
import { IamError, isIamError } from '../errors/iamError';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { type LoginChallenge, startEmailChallenge } from './loginChallenge';
import { queueSecurityAlert } from './securityAlert';
import type { Services } from './services';
import { completeSignIn, type SignedIn } from './signIn';

/**
 * Renews a session from its refresh token: rotation (with the grace window and reuse
 * detection of `sessions.rotate`), the anomaly checks, and a fresh access token. Cookie
 * refreshes and BFF refreshes both come through here, so they share every check.
 * - pass: new tokens;
 * - challenge: nothing rotates; the owner is mailed a code and a link, and whoever
 *   completes `mfa.verify` / `mfa.consumeLink` gets tokens;
 * - reuse (deny): the session is revoked, the owner alerted, the event audited.
 */
export async function refreshSession(services: Services, presented: string | null, client: ClientInfo): Promise<SignedIn | LoginChallenge> {
  try {
    if (!presented || presented.length > 128) throw new IamError('REFRESH_TOKEN_INVALID');
    const outcome = await services.sessions.rotate(presented, client, {
      // The owner's alert and the security event are queued in the transaction that revokes the session.
      onReused: async (tx, user, sessionId) => {
        await queueSecurityAlert(services, tx, user, { reason: 'token_reuse', client });
        await emitSecurityEvent(
          services,
          tx,
          { type: 'session.reuse_detected', userId: user.id, data: { sessionId } },
          services.clock.now(),
        );
      },
      // With the challenge's verdict and audit row.
      onChallenged: (tx, user, sessionId, verdict) =>
        emitSecurityEvent(
          services,
          tx,
          { type: 'session.challenged', userId: user.id, data: { flow: 'refresh', factor: 'email', reasons: verdict.reasons, sessionId } },
          services.clock.now(),
        ),
    });
    const { user } = outcome;

    if (outcome.kind === 'reused') {
      throw new IamError('REFRESH_TOKEN_REUSED');
    }
    if (outcome.kind === 'challenged') {
      services.metrics.refreshes.inc({ outcome: 'challenged' });
      return await startEmailChallenge(services, user, client, outcome.verdict.reasons, {
        purpose: 'refresh',
        sessionId: outcome.sessionId,
      });
    }

    const signedIn = await completeSignIn(services, user, {
      sessionId: outcome.sessionId,
      refreshToken: outcome.refreshToken,
      expiresAt: outcome.expiresAt,
      organization: outcome.organization,
    });
    services.metrics.refreshes.inc({ outcome: 'rotated' });
    return signedIn;
  } catch (error) {
    if (isIamError(error)) services.metrics.refreshes.inc({ outcome: error.code === 'REFRESH_TOKEN_REUSED' ? 'reused' : 'invalid' });
    throw error;
  }
}
