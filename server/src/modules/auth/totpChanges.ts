import type { ClientInfo } from '../devices/clientInfo';
import { findUserById } from '../users/users';
import { queueSecurityAlert } from './securityAlert';
import type { Services } from './services';

/**
 * Turning the authenticator on or off changes how the account is protected: the owner is
 * told, with a "this was not me" link that ends the session that did it (a stolen access
 * token must not quietly enrol an attacker's authenticator).
 */
async function notifyTotpChanged(services: Services, input: { userId: string; sessionId: string }, client: ClientInfo): Promise<void> {
  const user = await findUserById(services.db, input.userId);
  if (user) await queueSecurityAlert(services, services.db, user, { reason: 'mfa_changed', client, sessionId: input.sessionId });
}

export async function confirmTotp(
  services: Services,
  input: { userId: string; sessionId: string; code: string },
  client: ClientInfo,
): Promise<{ backupCodes: string[] }> {
  const result = await services.mfa.confirmTotp(input, client);
  await notifyTotpChanged(services, input, client);
  return result;
}

export async function disableTotp(
  services: Services,
  input: { userId: string; sessionId: string; code: string; stepUpToken: string | undefined },
  client: ClientInfo,
): Promise<{ status: 'disabled' }> {
  const result = await services.mfa.disableTotp(input, client);
  await notifyTotpChanged(services, input, client);
  return result;
}
