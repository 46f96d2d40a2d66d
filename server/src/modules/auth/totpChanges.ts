import type { Transaction } from '../../db/client';
import type { ClientInfo } from '../devices/clientInfo';
import { findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { queueSecurityAlert } from './securityAlert';
import type { Services } from './services';

/**
 * Turning the authenticator on or off changes how the account is protected: the owner is
 * told, in the transaction of the change, with a "this was not me" link that ends the session
 * that did it (a stolen access token must not quietly enrol an attacker's authenticator), and
 * the `mfa.changed` security event is queued with it (webhooks).
 */
function alertTotpChanged(services: Services, input: { userId: string; sessionId: string }, client: ClientInfo, enabled: boolean) {
  return async (tx: Transaction): Promise<void> => {
    const user = await findUserById(tx, input.userId);
    if (!user) return;
    await queueSecurityAlert(services, tx, user, { reason: 'mfa_changed', client, sessionId: input.sessionId });
    await emitSecurityEvent(
      services,
      tx,
      { type: 'mfa.changed', userId: user.id, data: { factor: 'totp', enabled } },
      services.clock.now(),
    );
  };
}

export async function confirmTotp(
  services: Services,
  input: { userId: string; sessionId: string; code: string },
  client: ClientInfo,
): Promise<{ backupCodes: string[] }> {
  const confirmed = await services.mfa.confirmTotp(input, client, alertTotpChanged(services, input, client, true));
  services.users.invalidate(input.userId);
  return confirmed;
}

export async function disableTotp(
  services: Services,
  input: { userId: string; sessionId: string; code: string; stepUpToken: string | undefined },
  client: ClientInfo,
): Promise<{ status: 'disabled' }> {
  const disabled = await services.mfa.disableTotp(input, client, alertTotpChanged(services, input, client, false));
  services.users.invalidate(input.userId);
  return disabled;
}
