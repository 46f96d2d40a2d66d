import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { isDuplicateKeyError, runTransaction } from '../../db/client';
import { oauthStates, type SsoConnectionRow, samlAssertions } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { sha256Hex } from '../crypto/hash';
import { randomToken } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError, isIamError } from '../errors/iamError';
import { connectionIdOf, findConnection, issuerAllowed, providerIdOf } from '../oauth/connections';
import type { OAuthProfile } from '../oauth/profile';
import {
  type SamlIdentityProvider,
  type SamlServiceProvider,
  samlAuthnRequestUrl,
  samlFailure,
  samlIdentityProviderOf,
  samlServiceProviderOf,
  validateSamlResponse,
} from '../sso/saml';
import { type OAuthSignInResult, signInWithProvider } from './oauthAccounts';
import { checkReturnTo, hashOAuthState, saveFlowState, spendFlowState } from './oauthFlow';
import type { Services } from './services';

/**
 * The SAML 2.0 Web Browser SSO flow of an organization's SAML connection (docs/security.md,
 * SAML). Three legs, one `oauth_states` row:
 * 1. `sso.authorize`: a fresh state (the RelayState) bound to the browser's canary, the
 *    AuthnRequest ID sealed in it, the returnTo on the allowlist, 10 minutes.
 * 2. The IdP's cross-site POST to the ACS (no SameSite=Lax cookie comes with it): the response
 *    is validated against that request, its assertion ID entered in the replay cache, and the
 *    verified profile sealed on the row under a key derived from the state. Nobody signs in yet.
 * 3. The browser's own GET of the ACS (a top-level navigation: the canary comes along) spends
 *    the state bound to this browser and signs in through `signInWithProvider`, like OIDC.
 * So a response lured into another browser signs nobody in there (login CSRF, Profiles §4.1.5).
 */

/** SAML 2.0 Core §1.3.4: an xs:ID (an NCName: starts with a letter or `_`), 160 random bits. */
function newRequestId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

const requestIdPurpose = 'saml-request-id';
const profilePurpose = 'saml-profile';

export interface SamlConnection {
  row: SsoConnectionRow;
  providerId: string;
  sp: SamlServiceProvider;
  idp: SamlIdentityProvider;
}

/** A usable SAML connection: its row, its IdP (certificates that parse), an SSO URL the deployment allows. */
export function samlConnectionOf(services: Pick<Services, 'settings' | 'oauth'>, row: SsoConnectionRow): SamlConnection | null {
  const idp = samlIdentityProviderOf(row);
  if (!idp || !issuerAllowed(idp.ssoUrl, services.oauth.sso.allowLoopbackHttp)) return null;
  const providerId = providerIdOf(row.id);
  return { row, providerId, sp: samlServiceProviderOf(services.settings.publicUrl, providerId), idp };
}

/** The SAML connection behind a provider id (one primary-key read), or null. */
export async function findSamlConnection(services: Pick<Services, 'db' | 'settings' | 'oauth'>, providerId: string) {
  const connectionId = connectionIdOf(providerId);
  const row = connectionId ? await findConnection(services.db, connectionId) : null;
  return row ? samlConnectionOf(services, row) : null;
}

/** Leg 1: the IdP's SSO URL with the AuthnRequest and the RelayState. */
export async function beginSaml(
  services: Services,
  connection: SamlConnection,
  input: { returnTo?: string | undefined },
  client: ClientInfo,
): Promise<{ url: string }> {
  checkReturnTo(services, input.returnTo);
  const state = randomToken(32);
  const requestId = newRequestId();
  const url = await samlAuthnRequestUrl(connection.sp, connection.idp, { requestId, relayState: state });
  await saveFlowState(services, {
    state,
    providerId: connection.providerId,
    secret: { value: requestId, purpose: requestIdPurpose },
    nonce: null,
    returnTo: input.returnTo,
    client,
  });
  return { url };
}

/** A flow waiting for its IdP's response, as the ACS POST finds it by RelayState. */
export interface PendingSamlFlow {
  state: string;
  requestId: string;
  returnTo: string | null;
}

function liveFlow(connection: SamlConnection, state: string, now: Date) {
  return and(
    eq(oauthStates.stateHash, hashOAuthState(state)),
    eq(oauthStates.provider, connection.providerId),
    isNull(oauthStates.usedAt),
    isNull(oauthStates.samlProfileSealed),
    gt(oauthStates.expiresAt, now),
  );
}

/** Leg 2, first: the live flow the RelayState names (unspent, this connection's), or OAUTH_STATE_INVALID. */
export async function findPendingSamlFlow(
  services: Services,
  connection: SamlConnection,
  relayState: string | undefined,
): Promise<PendingSamlFlow> {
  if (!relayState) throw new IamError('OAUTH_STATE_INVALID');
  // A flow already answered is still found, so a replayed response is named as such (the replay cache refuses it).
  const [row] = await services.db
    .select()
    .from(oauthStates)
    .where(
      and(
        eq(oauthStates.stateHash, hashOAuthState(relayState)),
        eq(oauthStates.provider, connection.providerId),
        isNull(oauthStates.usedAt),
        gt(oauthStates.expiresAt, services.clock.now()),
      ),
    )
    .limit(1);
  const requestId = row
    ? open(deriveKey(relayState, requestIdPurpose), row.codeVerifierSealed, `${requestIdPurpose}:${connection.providerId}`)
    : null;
  if (!row || !requestId) throw new IamError('OAUTH_STATE_INVALID');
  return { state: relayState, requestId, returnTo: row.returnTo };
}

/**
 * Leg 2, then: validates the IdP's response against the flow's AuthnRequest, enters the
 * assertion in the replay cache and keeps the verified profile on the flow; the caller sends
 * the browser to leg 3. A refusal changes nothing but an audit row (`login.failed`, reason
 * `sso_response_invalid` and the check that failed).
 */
export async function acceptSamlResponse(
  services: Services,
  connection: SamlConnection,
  flow: PendingSamlFlow,
  samlResponse: string | undefined,
  client: ClientInfo,
): Promise<void> {
  const now = services.clock.now();
  try {
    if (!samlResponse) throw samlFailure('malformed');
    const assertion = await validateSamlResponse(connection.sp, connection.idp, { samlResponse, requestId: flow.requestId, now });
    const sealed = seal(
      deriveKey(flow.state, profilePurpose),
      JSON.stringify(assertion.profile),
      `${profilePurpose}:${connection.providerId}`,
    );
    await runTransaction(services.db, async (tx) => {
      try {
        // Profiles §4.1.4.5: the insert is the replay decision, on every instance and cluster node.
        await tx.insert(samlAssertions).values({
          idHash: sha256Hex(`saml-assertion:${connection.row.id}:${assertion.assertionId}`),
          connectionId: connection.row.id,
          createdAt: now,
          expiresAt: assertion.expiresAt,
        });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw samlFailure('replayed');
        throw error;
      }
      const [kept] = await tx
        .update(oauthStates)
        .set({ samlProfileSealed: sealed })
        .where(liveFlow(connection, flow.state, now));
      if (kept.affectedRows !== 1) throw new IamError('OAUTH_STATE_INVALID');
    });
  } catch (error) {
    if (isIamError(error, 'SSO_RESPONSE_INVALID')) await recordRefusal(services, connection, error.reason ?? 'malformed', client);
    throw error;
  }
}

async function recordRefusal(services: Services, connection: SamlConnection, reason: string, client: ClientInfo): Promise<void> {
  // Logged at info without the XML: which check, for which connection, nothing of the person.
  services.logger.info({ connectionId: connection.row.id, reason }, 'SAML response refused');
  await recordAudit(services.db, {
    type: 'login.failed',
    at: services.clock.now(),
    client,
    organizationId: connection.row.organizationId,
    data: { reason: 'sso_response_invalid', check: reason, method: 'saml', provider: connection.providerId },
  });
}

/** Leg 3, first half: the browser's GET spends the state bound to it and opens the profile the IdP's POST left. */
export async function spendSamlState(
  services: Services,
  connection: SamlConnection,
  input: { relayState: string | undefined },
  client: ClientInfo,
): Promise<{ profile: OAuthProfile; returnTo: string | null }> {
  const state = input.relayState;
  if (!state) throw new IamError('OAUTH_STATE_INVALID');
  const row = await spendFlowState(services, { state, providerId: connection.providerId, requireSamlProfile: true }, client);
  const opened = row.samlProfileSealed
    ? open(deriveKey(state, profilePurpose), row.samlProfileSealed, `${profilePurpose}:${connection.providerId}`)
    : null;
  if (!opened) throw new IamError('OAUTH_STATE_INVALID');
  return { profile: JSON.parse(opened) as OAuthProfile, returnTo: row.returnTo };
}

/** Leg 3, second half: the sign-in every provider identity goes through (JIT, links, required SSO, MFA, sessions). */
export function signInWithSaml(
  services: Services,
  connection: SamlConnection,
  profile: OAuthProfile,
  client: ClientInfo,
): Promise<OAuthSignInResult> {
  return signInWithProvider(services, { id: connection.providerId }, profile, client);
}
