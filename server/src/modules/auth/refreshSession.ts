import type { ClientInfo } from '../devices/clientInfo';
import { IamError, isIamError } from '../errors/iamError';
import type { Services } from '../services';
import { findUserById } from '../users/users';
import { completeSignIn, type SignedIn } from './signIn';

/**
 * Renews a session from its refresh token: rotation (with the grace window and reuse
 * detection of `sessions.rotate`) and a fresh access token. Cookie refreshes and BFF
 * refreshes both come through here, so they share every check.
 */
export async function refreshSession(services: Services, presented: string | null, client: ClientInfo): Promise<SignedIn> {
  try {
    if (!presented || presented.length > 128) throw new IamError('REFRESH_TOKEN_INVALID');
    const rotated = await services.sessions.rotate(presented, client);
    const user = await findUserById(services.db, rotated.userId);
    if (!user) throw new IamError('REFRESH_TOKEN_INVALID');
    const signedIn = await completeSignIn(services, user, {
      sessionId: rotated.sessionId,
      refreshToken: rotated.refreshToken,
      expiresAt: rotated.expiresAt,
    });
    services.metrics.refreshes.inc({ outcome: 'rotated' });
    return signedIn;
  } catch (error) {
    if (isIamError(error)) services.metrics.refreshes.inc({ outcome: error.code === 'REFRESH_TOKEN_REUSED' ? 'reused' : 'invalid' });
    throw error;
  }
}
