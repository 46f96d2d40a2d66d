import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { IamError } from '../errors/iamError';
import { isLoopbackHost, type OAuthProviderConfig } from './config';
import { type OAuthProfile, toProfile } from './profile';
import { defineProvider, type ProviderDefinition } from './providers';

/**
 * The configured providers and the protocol work, done by openid-client (a certified OpenID
 * Connect relying party on top of oauth4webapi): discovery, the authorization URL, the code
 * exchange with PKCE, ID token validation (signature against the provider's JWKS, `iss`,
 * `aud`, `azp`, `exp`, `iat`, `nonce`), RFC 9207 `iss` checks, and userinfo (whose `sub`
 * must be the ID token's). Nothing here
 * hand-rolls protocol code; it maps the library's failures to the service's error codes.
 */
export interface OAuthRegistry {
  /** The configured providers (an organization's SSO connections are not listed). */
  list(): Array<{ id: string; name: string }>;
  /** A configured provider, or a connection's provider this instance resolved lately (see `resolve`). */
  get(id: string): ProviderDefinition | null;
  /**
   * A configured provider, or the provider of an organization's SSO connection read from the
   * database: cached for a few seconds, rebuilt (discovery included) when the row's
   * `updated_at` moved, gone when the row is, on every instance.
   */
  resolve(id: string): Promise<ProviderDefinition | null>;
  /** Forgets what this instance holds of a dynamic provider (its row changed here). */
  invalidate(id: string): void;
  /** The provider's authorization URL for one flow (RFC 7636 S256 challenge, OIDC nonce). */
  authorizationUrl(provider: ProviderDefinition, flow: { state: string; codeVerifier: string; nonce: string | null }): Promise<string>;
  /** Redeems a code and returns who signed in; throws `OAUTH_PROVIDER_ERROR` or `OAUTH_STATE_INVALID`. */
  exchange(
    provider: ProviderDefinition,
    response: { code: string; state: string; iss: string | undefined },
    flow: { codeVerifier: string; nonce: string | null },
  ): Promise<OAuthProfile>;
}

const defaultTimeoutInMs = 10_000;
/** Discovered metadata is refreshed this often (keys are refetched by the library on a new `kid`). */
const discoveryTtlInMs = 24 * 3600 * 1000;
/** Userinfo answers larger than this are refused: a profile is a few kilobytes. */
const maxUserinfoBytes = 256 * 1024;
/**
 * How long a dynamic provider is used without reading its row again. A change made on another
 * instance (a new secret, a deleted connection) takes effect there within this time.
 */
export const dynamicProviderTtlInMs = 2_000;

/** Providers that are rows (an organization's SSO connections): one primary-key read each. */
export interface DynamicProviderSource {
  /** Whether the id names such a provider at all (no read for anything else). */
  handles(id: string): boolean;
  /** The provider and the version of its row (`updated_at`), or null when there is none. */
  load(id: string): Promise<{ provider: ProviderDefinition; version: number } | null>;
}

export function createOAuthRegistry(deps: {
  providers: readonly OAuthProviderConfig[];
  publicUrl: string;
  timeoutInMs?: number;
  logger: Pick<Logger, 'warn'>;
  dynamic?: DynamicProviderSource;
}): OAuthRegistry {
  const definitions = new Map(
    deps.providers.map((config) => {
      const definition = defineProvider(config, deps.publicUrl);
      return [definition.id, definition] as const;
    }),
  );
  const timeoutInSeconds = (deps.timeoutInMs ?? defaultTimeoutInMs) / 1000;
  const configurations = new Map<string, { config: Promise<Client>; at: number; provider: ProviderDefinition }>();
  const dynamicProviders = new Map<string, { provider: ProviderDefinition; version: number; checkedAt: number }>();

  function forget(id: string): void {
    dynamicProviders.delete(id);
    configurations.delete(id);
  }

  async function resolveDynamic(id: string): Promise<ProviderDefinition | null> {
    const source = deps.dynamic;
    if (!source?.handles(id)) return null;
    const cached = dynamicProviders.get(id);
    if (cached && Date.now() - cached.checkedAt < dynamicProviderTtlInMs) return cached.provider;
    const loaded = await source.load(id);
    if (!loaded) {
      forget(id);
      return null;
    }
    if (cached && cached.version === loaded.version) {
      cached.checkedAt = Date.now();
      return cached.provider;
    }
    // A new or changed row: its discovered configuration goes too (another issuer, client or secret).
    configurations.delete(id);
    dynamicProviders.set(id, { ...loaded, checkedAt: Date.now() });
    return loaded.provider;
  }

  interface Client {
    config: oidc.Configuration;
    /** Sets the secret the next exchange authenticates with (Apple's is made per exchange). */
    prepare(): Promise<void>;
  }

  /** openid-client refuses plain HTTP unless told; told, it is still refused beyond loopback hosts, discovered endpoints included. */
  const guardedFetch = (provider: ProviderDefinition): oidc.CustomFetch => {
    return (url, options) => {
      const target = new URL(url);
      if (target.protocol !== 'https:' && !(provider.allowInsecureHttp && target.protocol === 'http:' && isLoopbackHost(target.hostname))) {
        return Promise.reject(new Error(`refused a non-TLS request to ${target.origin} (allowInsecureHttp is for loopback hosts only)`));
      }
      return fetch(url, options as RequestInit);
    };
  };

  async function buildClient(provider: ProviderDefinition): Promise<Client> {
    let secret = typeof provider.clientSecret === 'string' ? provider.clientSecret : '';
    const authenticate: oidc.ClientAuth = (as, client, body, headers) => {
      if (provider.tokenEndpointAuthMethod === 'none') return oidc.None()(as, client, body, headers);
      if (provider.tokenEndpointAuthMethod === 'client_secret_basic') return oidc.ClientSecretBasic(secret)(as, client, body, headers);
      return oidc.ClientSecretPost(secret)(as, client, body, headers);
    };
    const execute = provider.allowInsecureHttp ? [oidc.allowInsecureRequests] : [];
    let config: oidc.Configuration;
    if (provider.protocol === 'oidc' && provider.issuer) {
      config = await oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, authenticate, {
        timeout: timeoutInSeconds,
        // The ID token's signature is checked against the provider's JWKS too, not only trusted
        // for arriving over TLS from the token endpoint (OIDC Core §3.1.3.7 allows either).
        execute: [...execute, oidc.enableNonRepudiationChecks],
        [oidc.customFetch]: guardedFetch(provider),
      });
    } else if (provider.endpoints) {
      const { endpoints } = provider;
      config = new oidc.Configuration(
        {
          // Without a declared issuer there is no `iss` to check (it is dropped from the response).
          issuer: endpoints.issuer ?? new URL(endpoints.authorizationUrl).origin,
          authorization_endpoint: endpoints.authorizationUrl,
          token_endpoint: endpoints.tokenUrl,
          userinfo_endpoint: endpoints.userinfoUrl,
        },
        provider.clientId,
        undefined,
        authenticate,
      );
      for (const extension of execute) extension(config);
      config.timeout = timeoutInSeconds;
      config[oidc.customFetch] = guardedFetch(provider);
    } else {
      throw new Error(`provider ${provider.id} has neither an issuer nor endpoints`);
    }
    return {
      config,
      async prepare() {
        if (typeof provider.clientSecret === 'function') secret = await provider.clientSecret();
      },
    };
  }

  /** One configuration per provider, discovered on first use and again after a day; a failed discovery is retried next time. */
  function clientOf(provider: ProviderDefinition): Promise<Client> {
    const cached = configurations.get(provider.id);
    // A dynamic provider rebuilt since (its row changed) is another client, never the old one's configuration.
    if (cached && cached.provider === provider && Date.now() - cached.at < discoveryTtlInMs) return cached.config;
    const config = buildClient(provider);
    configurations.set(provider.id, { config, at: Date.now(), provider });
    config.catch(() => {
      if (configurations.get(provider.id)?.config === config) configurations.delete(provider.id);
    });
    return config;
  }

  function failure(provider: ProviderDefinition, step: string, error: unknown): IamError {
    if (error instanceof IamError) return error;
    // RFC 6749 §5.2 `invalid_grant`: the code is used, expired, or belongs to another request or
    // PKCE verifier (RFC 7636 §4.6) — the attempt is over, not the provider.
    const grantRefused = error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant';
    // A nonce that does not match is an ID token from another authorization (OIDC Core §3.1.3.7).
    const foreignIdToken = claimOf(error) === 'nonce';
    deps.logger.warn({ provider: provider.id, step, err: describe(error) }, 'OAuth provider exchange failed');
    return new IamError(grantRefused || foreignIdToken ? 'OAUTH_STATE_INVALID' : 'OAUTH_PROVIDER_ERROR', { cause: error });
  }

  async function readJson(response: Response): Promise<unknown> {
    if (response.status !== 200) throw new Error(`userinfo answered ${response.status}`);
    if (!/^application\/([a-z.+-]*\+)?json\b/i.test(response.headers.get('content-type') ?? '')) throw new Error('userinfo is not JSON');
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxUserinfoBytes) throw new Error('userinfo too large');
    const text = await response.text();
    if (text.length > maxUserinfoBytes) throw new Error('userinfo too large');
    return JSON.parse(text) as unknown;
  }

  return {
    list: () => [...definitions.values()].map(({ id, name }) => ({ id, name })),
    get: (id) => definitions.get(id) ?? dynamicProviders.get(id)?.provider ?? null,
    async resolve(id) {
      return definitions.get(id) ?? (await resolveDynamic(id));
    },
    invalidate: forget,

    async authorizationUrl(provider, flow) {
      try {
        const { config } = await clientOf(provider);
        const parameters: Record<string, string> = {
          ...provider.authorizationParams,
          redirect_uri: provider.redirectUri,
          scope: provider.scopes.join(' '),
          state: flow.state,
          // RFC 7636 §4.2 / RFC 9700 §2.1.1: S256 only.
          code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
          code_challenge_method: 'S256',
        };
        if (flow.nonce) parameters.nonce = flow.nonce;
        return oidc.buildAuthorizationUrl(config, parameters).href;
      } catch (error) {
        throw failure(provider, 'authorize', error);
      }
    },

    async exchange(provider, response, flow) {
      let client: Client;
      try {
        client = await clientOf(provider);
      } catch (error) {
        throw failure(provider, 'discovery', error);
      }
      const { config } = client;
      const metadata = config.serverMetadata();
      const checksIssuer = provider.protocol === 'oidc' || provider.endpoints?.issuer != null;
      if (checksIssuer) {
        // RFC 9207 §2.4: a response whose `iss` is not the provider's, or that lacks the `iss` the
        // provider said it sends, is refused (mix-up defence, RFC 9700 §4.4). Multi-tenant
        // issuers (Entra ID's `{tenantid}` template) are left to the library.
        if (response.iss !== undefined && !metadata.issuer.includes('{') && response.iss !== metadata.issuer) {
          throw new IamError('OAUTH_STATE_INVALID');
        }
        if (response.iss === undefined && metadata.authorization_response_iss_parameter_supported === true) {
          throw new IamError('OAUTH_STATE_INVALID');
        }
      }
      const callbackUrl = new URL(provider.redirectUri);
      callbackUrl.searchParams.set('code', response.code);
      callbackUrl.searchParams.set('state', response.state);
      if (checksIssuer && response.iss !== undefined) callbackUrl.searchParams.set('iss', response.iss);

      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        await client.prepare();
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: response.state,
          ...(flow.nonce ? { expectedNonce: flow.nonce } : {}),
          idTokenExpected: provider.protocol === 'oidc',
        });
      } catch (error) {
        throw failure(provider, 'token', error);
      }

      try {
        let claims: Record<string, unknown>;
        if (provider.protocol === 'oidc') {
          const idToken = tokens.claims();
          if (!idToken) throw new Error('no ID token');
          claims = { ...idToken };
          if (typeof idToken.email !== 'string' && metadata.userinfo_endpoint) {
            // OIDC Core §5.3.2: the userinfo `sub` must be the ID token's.
            const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
            claims = { ...userinfo, ...idToken };
          }
        } else {
          const url = new URL(provider.endpoints?.userinfoUrl ?? '');
          const headers = new Headers({ accept: 'application/json', ...provider.userinfoHeaders });
          const answer = await oidc.fetchProtectedResource(config, tokens.access_token, url, 'GET', undefined, headers);
          const json = await readJson(answer);
          if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('userinfo is not an object');
          claims = json as Record<string, unknown>;
        }
        let profile = toProfile(provider.mapProfile(claims));
        if (!profile) throw new Error('the profile has no usable subject');
        if (provider.completeProfile && !(profile.email && profile.emailVerified)) {
          const fetchJson = async (target: string) =>
            readJson(
              await oidc.fetchProtectedResource(
                config,
                tokens.access_token,
                new URL(target),
                'GET',
                undefined,
                new Headers({ accept: 'application/json', ...provider.userinfoHeaders }),
              ),
            );
          profile = await provider.completeProfile(profile, fetchJson);
        }
        return profile;
      } catch (error) {
        throw failure(provider, 'profile', error);
      }
    },
  };
}

/** The claim an ID token check failed on, when the library says. */
function claimOf(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && current !== null && 'claim' in current) return (current as { claim: unknown }).claim;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A loggable description of a library error: its name, code and message, never a token. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  const oauthError =
    error instanceof oidc.ResponseBodyError ? { error: error.error, errorDescription: error.error_description, status: error.status } : {};
  const cause = error.cause instanceof Error ? { cause: `${error.cause.name}: ${error.cause.message}` } : {};
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}), ...oauthError, ...cause };
}
