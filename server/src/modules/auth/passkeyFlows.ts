import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { and, eq, sql } from 'drizzle-orm';
import { runTransaction } from '../../db/client';
import { oauthAccounts, passkeys, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import type { PasskeySummary } from '../passkeys/passkeys';
import { assertSsoNotRequired } from '../sso/policy';
import { findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import type { LoginChallenge } from './loginChallenge';
import { provePasskey } from './passkeyProof';
import { queueSecurityAlert } from './securityAlert';
import type { Services } from './services';
import { type SignedIn, signInOrChallenge } from './signIn';
import { requireStepUp } from './stepUp';

/** docs/api.md: adding a passkey needs a sign-in or a step-up in the last 5 minutes. */
const freshSignInInSeconds = 5 * 60;

/**
 * The options of a passkey registration for the signed-in user. A session opened more than 5
 * minutes ago must bring a step-up token for `passkey_add` (spent here): a stolen session
 * cannot plant a passkey of its own (OWASP ASVS 4.0 V2.1.5, re-authentication).
 */
export async function passkeyRegistrationOptions(
  services: Services,
  input: { userId: string; sessionId: string; stepUpToken?: string | undefined },
  client: ClientInfo,
) {
  const [session, user] = await Promise.all([services.sessions.find(input.sessionId), findUserById(services.db, input.userId)]);
  if (!session || !user) throw new IamError('UNAUTHENTICATED');
  const age = (services.clock.now().getTime() - session.createdAt.getTime()) / 1000;
  if (age > freshSignInInSeconds) {
    if (!input.stepUpToken) throw new IamError('STEP_UP_REQUIRED');
    await requireStepUp(services, { sessionId: input.sessionId, action: 'passkey_add', stepUpToken: input.stepUpToken });
  }
  return services.passkeys.registrationOptions(user, client);
}

/**
 * The options of a passkey ceremony: a discoverable sign-in, or (with `challengeId`) the
 * answer to a sign-in, refresh or step-up challenge that lists `passkey`, limited to the
 * passkeys of the challenge's account. A challenge that takes no passkey is `CHALLENGE_INVALID`.
 */
export async function passkeyAuthenticationOptions(services: Services, challengeId: string | undefined, client: ClientInfo) {
  if (challengeId === undefined) return services.passkeys.authenticationOptions(client);
  const target = await services.challenges.forPasskey(challengeId);
  if (!target) throw new IamError('CHALLENGE_INVALID');
  return services.passkeys.authenticationOptions(client, target);
}

/** Registers the passkey the browser created; the owner is mailed a notice. */
export async function registerPasskey(
  services: Services,
  input: { userId: string; sessionId: string; response: RegistrationResponseJSON; name?: string | undefined },
  client: ClientInfo,
): Promise<Pick<PasskeySummary, 'id' | 'name' | 'createdAt'>> {
  const user = await findUserById(services.db, input.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  const added = await services.passkeys.register(user.id, { response: input.response, name: input.name }, client);
  services.users.invalidate(user.id);
  await runTransaction(services.db, async (tx) => {
    const at = services.clock.now();
    await recordAudit(tx, { type: 'passkey.added', at, userId: user.id, sessionId: input.sessionId, client, data: { passkey: added.id } });
    await queueSecurityAlert(services, tx, user, { reason: 'passkey_added', client, sessionId: input.sessionId });
    await emitSecurityEvent(services, tx, { type: 'passkey.added', userId: user.id, data: { passkeyId: added.id } }, at);
  });
  return { id: added.id, name: added.name, createdAt: added.createdAt };
}

/**
 * Signs in with a passkey (discoverable: the authenticator names the account). A passkey with
 * user verification is a multi-factor authenticator (NIST SP 800-63B §5.1.8), so no second
 * factor is asked on top; the sign-in checks still judge it like every way in. A counter that
 * went backwards is refused and the owner is told the key may have been copied.
 */
export async function signInWithPasskey(
  services: Services,
  input: { ceremonyId: string; response: AuthenticationResponseJSON },
  client: ClientInfo,
): Promise<SignedIn | LoginChallenge> {
  const { user } = await provePasskey(services, input, client);
  await assertSsoNotRequired(services.db, user, { method: 'passkey', client, now: services.clock.now() });
  return signInOrChallenge(services, user, client, { method: 'passkey', multiFactor: true });
}

/**
 * Removes a passkey on a step-up for `passkey_remove`; the last way to sign in (no password,
 * no provider, no other passkey) stays.
 */
export async function removePasskey(
  services: Services,
  input: { userId: string; sessionId: string; id: string; stepUpToken?: string | undefined },
  client: ClientInfo,
): Promise<{ status: 'removed' }> {
  const user = await findUserById(services.db, input.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  if (!input.stepUpToken) throw new IamError('STEP_UP_REQUIRED');
  const stepUpToken = input.stepUpToken;
  await runTransaction(services.db, async (tx) => {
    // The account's row is the lock two removals take turns on.
    const [locked] = await tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, user.id)).for('update');
    const own = await tx.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.userId, user.id));
    if (!own.some((row) => row.id === input.id)) throw new IamError('NOT_FOUND');
    const providers = await tx.select({ provider: oauthAccounts.provider }).from(oauthAccounts).where(eq(oauthAccounts.userId, user.id));
    if (!locked?.passwordHash && providers.length === 0 && own.length === 1) throw new IamError('LAST_SIGN_IN_METHOD');
    await requireStepUp(services, { sessionId: input.sessionId, action: 'passkey_remove', stepUpToken }, tx);
    await tx.delete(passkeys).where(and(eq(passkeys.id, input.id), eq(passkeys.userId, user.id)));
    await tx
      .update(users)
      .set({ passkeyCount: sql`GREATEST(${users.passkeyCount} - 1, 0)` })
      .where(eq(users.id, user.id));
    const at = services.clock.now();
    await recordAudit(tx, {
      type: 'passkey.removed',
      at,
      userId: user.id,
      sessionId: input.sessionId,
      client,
      data: { passkey: input.id },
    });
    await queueSecurityAlert(services, tx, user, { reason: 'passkey_removed', client, sessionId: input.sessionId });
    await emitSecurityEvent(services, tx, { type: 'passkey.removed', userId: user.id, data: { passkeyId: input.id } }, at);
  });
  services.users.invalidate(user.id);
  return { status: 'removed' };
}
