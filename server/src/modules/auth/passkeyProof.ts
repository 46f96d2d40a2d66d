import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { runTransaction } from '../../db/client';
import type { UserRow } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { findUserById } from '../users/users';
import { queueSecurityAlert } from './securityAlert';
import type { Services } from './services';

export interface PasskeyAnswer {
  ceremonyId: string;
  response: AuthenticationResponseJSON;
}

/**
 * Verifies a passkey assertion (for a sign-in, or for the challenge `forChallenge`) and returns
 * the passkey's owner. A signature counter that went backwards means two authenticators hold
 * one key (W3C WebAuthn §6.1.1): refused, audited, and the owner is told the key may have
 * been copied. Every refusal is `PASSKEY_INVALID`.
 */
export async function provePasskey(
  services: Services,
  answer: PasskeyAnswer,
  client: ClientInfo,
  forChallenge?: { challengeId: string; userId: string },
): Promise<{ user: UserRow; passkeyId: string }> {
  const assertion = await services.passkeys.authenticate(answer, client, forChallenge);
  const user = await findUserById(services.db, assertion.userId);
  if (!user) throw new IamError('PASSKEY_INVALID');
  if (assertion.kind === 'cloned') {
    await runTransaction(services.db, async (tx) => {
      const at = services.clock.now();
      await recordAudit(tx, { type: 'passkey.counter_regressed', at, userId: user.id, client, data: { passkey: assertion.passkeyId } });
      await queueSecurityAlert(services, tx, user, { reason: 'passkey_cloned', client });
    });
    throw new IamError('PASSKEY_INVALID');
  }
  return { user, passkeyId: assertion.passkeyId };
}

/**
 * The first half of answering a sign-in, refresh or step-up challenge with a passkey: the
 * ceremony was opened for this challenge (`passkey.authenticationOptions({ challengeId })`),
 * and the assertion is of a passkey of the challenge's account. The caller then consumes the
 * challenge (`challenges.consumeWithPasskey`), which judges it again under its row lock.
 */
export async function provePasskeyForChallenge(
  services: Services,
  input: { challengeId: string; passkey: PasskeyAnswer },
  client: ClientInfo,
): Promise<{ userId: string }> {
  const target = await services.challenges.forPasskey(input.challengeId);
  if (!target) throw new IamError('CHALLENGE_INVALID');
  await provePasskey(services, input.passkey, client, target);
  return { userId: target.userId };
}
