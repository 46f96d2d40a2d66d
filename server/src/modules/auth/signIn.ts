import type { Transaction } from '../../db/client';
import type { UserRow } from '../../db/tables';
import type { ClientInfo } from '../devices/clientInfo';
import type { CreatedSession } from '../sessions/sessions';
import { type PublicUser, toPublicUser } from '../users/publicUser';
import { queueNewSignInAlert, queueSecurityAlert } from './securityAlert';
import type { Services } from './services';

/** A completed sign-in: the HTTP layer sets the cookies and returns the rest. */
export interface SignedIn {
  status: 'authenticated';
  user: PublicUser;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  sessionId: string;
  sessionExpiresAt: Date;
}

/**
 * Opens the session inside the transaction that proved the user's identity; a first sign-in
 * from a new device of an account that has others queues an alert to the owner in it too.
 */
export async function openSession(
  services: Services,
  tx: Transaction,
  user: UserRow,
  client: ClientInfo,
  options: { trusted?: boolean } = {},
): Promise<CreatedSession> {
  const session = await services.sessions.create(tx, { userId: user.id, client, trusted: options.trusted ?? false });
  if (session.newDevice) await queueNewSignInAlert(services, tx, user, session.newDevice, session.sessionId);
  if (session.evicted) await queueSecurityAlert(services, tx, user, { reason: 'session_limit', client });
  return session;
}

/** Signs the access token once the session is committed. */
export async function completeSignIn(services: Services, user: UserRow, session: CreatedSession): Promise<SignedIn> {
  // The sign-in's transaction revoked these; every instance refuses their access tokens from now on.
  for (const evicted of session.evicted ?? []) services.revocations.add(evicted, services.clock.now());
  const access = await services.accessTokens.issue({ userId: user.id, sessionId: session.sessionId, roles: user.roles });
  return {
    status: 'authenticated',
    user: toPublicUser(user),
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken: session.refreshToken,
    sessionId: session.sessionId,
    sessionExpiresAt: session.expiresAt,
  };
}
