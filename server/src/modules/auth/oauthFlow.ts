import { and, eq, gt, isNotNull, isNull } from 'drizzle-orm';
import { randomNonce, randomPKCECodeVerifier } from 'openid-client';
import { type OAuthStateRow, oauthStates } from '../../db/tables';
import { addSeconds } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { randomToken } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';
import { canaryHash } from '../devices/canary';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { matchesReturnToAllowlist } from '../oauth/config';
import type { ProviderDefinition } from '../oauth/providers';
import { connectionOf } from '../sso/connections';
import { organizationOfEmail } from '../sso/domains';
import { type OAuthSignInResult, signInWithProvider } from './oauthAccounts';
import type { Services } from './services';

/** RFC 9700 §4.7.1 / §2.1: a short-lived, single-use state; 10 minutes is ample for a person at the provider. */
export const oauthStateTtlInSeconds = 10 * 60;
/** 256 bits from a CSPRNG: unguessable, so it binds the response to the request (RFC 6749 §10.12). */
const stateBytes = 32;
const verifierPurpose = 'oauth-code-verifier';

/** A started flow, as the callback finds it again. */
export interface OAuthFlow {
  provider: ProviderDefinition;
  codeVerifier: string;
  nonce: string | null;
  returnTo: string | null;
}

export function hashOAuthState(state: string): string {
  return sha256Hex(`oauth-state:${state}`);
}

function browserOf(client: ClientInfo): string | null {
  return client.canary ? canaryHash(client.canary) : null;
}

/** A configured provider, or an organization's SSO connection (read from the database, cached briefly). */
export async function requireProvider(services: Services, id: string): Promise<ProviderDefinition> {
  const provider = await services.oauth.registry.resolve(id);
  if (!provider) throw new IamError('INVALID_INPUT', { message: 'This sign-in provider is not configured.' });
  return provider;
}

/** The returnTo of a flow: absent, or on the allowlist (RFC 9700 §4.11); anything else is refused, never replaced by a default. */
export function checkReturnTo(services: Services, returnTo: string | undefined): void {
  if (returnTo !== undefined && !matchesReturnToAllowlist(services.oauth.returnToAllowlist, returnTo)) {
    throw new IamError('OAUTH_RETURN_TO_INVALID');
  }
}

/**
 * Keeps a started flow server-side (`oauth_states`): the hash of its state, the provider, the
 * browser's canary hash, the returnTo, 10 minutes. `secret` (the PKCE verifier, or a SAML
 * AuthnRequest ID) is sealed under a key derived from the state, so the table alone gives nothing.
 */
export async function saveFlowState(
  services: Services,
  flow: {
    state: string;
    providerId: string;
    secret: { value: string; purpose: string };
    nonce: string | null;
    returnTo: string | undefined;
    client: ClientInfo;
  },
): Promise<void> {
  const now = services.clock.now();
  await services.db.insert(oauthStates).values({
    stateHash: hashOAuthState(flow.state),
    provider: flow.providerId,
    codeVerifierSealed: seal(deriveKey(flow.state, flow.secret.purpose), flow.secret.value, `${flow.secret.purpose}:${flow.providerId}`),
    nonce: flow.nonce,
    returnTo: flow.returnTo === undefined ? null : new URL(flow.returnTo).href,
    canaryHash: browserOf(flow.client),
    createdAt: now,
    expiresAt: addSeconds(now, oauthStateTtlInSeconds),
  });
}

/**
 * Spends a flow's state: exactly one live flow for this provider, started by this browser
 * (and, for SAML, whose IdP response was accepted). Anything else is `OAUTH_STATE_INVALID`;
 * a state never works twice (RFC 9700 §4.7.1).
 */
export async function spendFlowState(
  services: Services,
  input: { state: string; providerId: string; requireSamlProfile?: boolean },
  client: ClientInfo,
): Promise<OAuthStateRow> {
  const stateHash = hashOAuthState(input.state);
  const browser = browserOf(client);
  const now = services.clock.now();
  const [spent] = await services.db
    .update(oauthStates)
    .set({ usedAt: now })
    .where(
      and(
        eq(oauthStates.stateHash, stateHash),
        eq(oauthStates.provider, input.providerId),
        isNull(oauthStates.usedAt),
        gt(oauthStates.expiresAt, now),
        browser ? eq(oauthStates.canaryHash, browser) : isNull(oauthStates.canaryHash),
        input.requireSamlProfile ? isNotNull(oauthStates.samlProfileSealed) : isNull(oauthStates.samlProfileSealed),
      ),
    );
  if (spent.affectedRows !== 1) throw new IamError('OAUTH_STATE_INVALID');
  const [row] = await services.db.select().from(oauthStates).where(eq(oauthStates.stateHash, stateHash)).limit(1);
  if (!row) throw new IamError('OAUTH_STATE_INVALID');
  return row;
}

/**
 * Starts a sign-in at a provider: a fresh `state`, a PKCE S256 verifier (RFC 7636) and, for
 * OpenID Connect, a `nonce`, all kept server-side and bound to the browser's device canary, so
 * the response is accepted once, only by the browser that asked for it, within 10 minutes
 * (RFC 9700 §2.1 and §4.7, CSRF and code injection). A `returnTo` must be on the allowlist
 * (RFC 9700 §4.11): anything else is refused, never replaced by a default.
 */
export async function beginOAuth(
  services: Services,
  input: { provider: string; returnTo?: string | undefined },
  client: ClientInfo,
): Promise<{ url: string }> {
  const provider = await requireProvider(services, input.provider);
  checkReturnTo(services, input.returnTo);
  const state = randomToken(stateBytes);
  const codeVerifier = randomPKCECodeVerifier();
  const nonce = provider.protocol === 'oidc' ? randomNonce() : null;
  const url = await services.oauth.registry.authorizationUrl(provider, { state, codeVerifier, nonce });

  await saveFlowState(services, {
    state,
    providerId: provider.id,
    // Sealed under a key only the state itself gives: the table alone never redeems a code.
    secret: { value: codeVerifier, purpose: verifierPurpose },
    nonce,
    returnTo: input.returnTo,
    client,
  });
  return { url };
}

/**
 * Spends the state of a callback: exactly one live flow for this provider, started by this
 * browser. Missing, unknown, replayed, expired, for another provider or from another browser
 * are all `OAUTH_STATE_INVALID`, and a state is spent before the code is redeemed, so it never
 * works twice (RFC 9700 §4.7.1).
 */
export async function consumeOAuthState(
  services: Services,
  input: { provider: string; state?: string | undefined },
  client: ClientInfo,
): Promise<OAuthFlow> {
  const provider = await requireProvider(services, input.provider);
  const state = input.state;
  if (!state) throw new IamError('OAUTH_STATE_INVALID');
  const row = await spendFlowState(services, { state, providerId: provider.id }, client);
  const codeVerifier = open(deriveKey(state, verifierPurpose), row.codeVerifierSealed, `${verifierPurpose}:${provider.id}`);
  if (!codeVerifier) throw new IamError('OAUTH_STATE_INVALID');
  return { provider, codeVerifier, nonce: row.nonce, returnTo: row.returnTo };
}

/** Redeems the code of a spent flow and signs the person in, or asks for a link. */
export async function completeOAuth(
  services: Services,
  flow: OAuthFlow,
  response: { code: string; state: string; iss?: string | undefined },
  client: ClientInfo,
): Promise<OAuthSignInResult> {
  const profile = await services.oauth.registry.exchange(
    flow.provider,
    { code: response.code, state: response.state, iss: response.iss },
    { codeVerifier: flow.codeVerifier, nonce: flow.nonce },
  );
  return signInWithProvider(services, flow.provider, profile, client);
}

/** `oauth.callback`: the state, then the code. */
export async function oauthCallback(
  services: Services,
  input: { provider: string; code: string; state?: string | undefined; iss?: string | undefined },
  client: ClientInfo,
): Promise<OAuthSignInResult> {
  const flow = await consumeOAuthState(services, input, client);
  return completeOAuth(services, flow, { code: input.code, state: input.state ?? '', iss: input.iss }, client);
}

/**
 * `sso.discover`: home-realm discovery. The organization that verified the address's domain
 * and its connection, or null — the same shape, and the same reads, for any address, so it
 * tells no more than the domain's public TXT record already does (OWASP ASVS 4.0 V2.2.x:
 * rate-limited, no account enumeration: nothing here depends on whether an account exists).
 */
export async function discoverSso(
  services: Services,
  input: { email: string },
): Promise<{ sso: { organizationId: string; connectionId: string } | null }> {
  const organizationId = await organizationOfEmail(services.db, input.email);
  const connection = organizationId ? await connectionOf(services.db, organizationId) : null;
  return { sso: organizationId && connection ? { organizationId, connectionId: connection.id } : null };
}
