import type { ClientInfo } from '../devices/clientInfo';
import type { Services } from './services';

/**
 * Ends the session named by the access token and/or the refresh token. Idempotent: an
 * unknown or already-ended session is simply signed out. An expired but genuine access
 * token still names its session.
 */
export async function logout(
  services: Services,
  input: { accessToken: string | null; refreshToken: string | null },
  client: ClientInfo,
): Promise<{ status: 'signed_out' }> {
  const sessionIds = new Set<string>();
  if (input.accessToken) {
    const sessionId = await services.accessTokens.readSessionId(input.accessToken);
    if (sessionId) sessionIds.add(sessionId);
  }
  if (input.refreshToken) {
    const owner = await services.sessions.sessionOfRefreshToken(input.refreshToken);
    if (owner) sessionIds.add(owner.sessionId);
  }
  await services.sessions.revoke([...sessionIds], 'logout', client);
  return { status: 'signed_out' };
}
