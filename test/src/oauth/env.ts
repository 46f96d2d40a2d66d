import { randomBytes } from 'node:crypto';
import type { IamClient } from '@iam/client';
import type { IamConfig } from '@iam/server';
import { createTestServer, type TestServer } from '../harness/server';
import { type OidcProviderPeer, type ProviderAccount, startOidcProvider } from '../peers/oidcProvider';

/** The provider id the suites configure, and its default redirect URI path. */
export const corp = 'corp';
export const returnToAllowlist = ['https://app.example.com/after-login', 'https://app.example.com/app/'];

type ProviderConfig = NonNullable<IamConfig['oauth']>['providers'][number];

export interface OAuthEnv extends AsyncDisposable {
  t: TestServer;
  provider: OidcProviderPeer;
  close(): Promise<void>;
}

/**
 * A service with one OpenID Connect provider, `corp`, discovered from a real OpenID Provider
 * on loopback (so `allowInsecureHttp` applies), whose client is registered with the
 * service's default redirect URI.
 */
export async function createOAuthEnv(
  options: {
    oauth?: Partial<NonNullable<IamConfig['oauth']>>;
    server?: Parameters<typeof createTestServer>[0];
    /** More provider ids configured with the same OpenID Provider and client. */
    aliases?: string[];
    /** More providers built on the same OpenID Provider (e.g. as a plain OAuth 2 provider). */
    extraProviders?: (peer: OidcProviderPeer) => ProviderConfig[];
  } = {},
): Promise<OAuthEnv> {
  const provider = await startOidcProvider();
  const ids = [corp, ...(options.aliases ?? [])];
  const extra = options.extraProviders?.(provider) ?? [];
  let t: TestServer;
  try {
    t = await createTestServer({
      ...options.server,
      oauth: {
        providers: [
          ...ids.map((id) => ({
            id,
            type: 'oidc' as const,
            name: id === corp ? 'Corp SSO' : id,
            issuer: provider.issuer,
            clientId: provider.clientId,
            clientSecret: provider.clientSecret,
            allowInsecureHttp: true,
          })),
          ...extra,
        ],
        returnToAllowlist,
        providerTimeoutInMs: 2_000,
        ...options.oauth,
      },
    });
  } catch (error) {
    await provider.close();
    throw error;
  }
  provider.setRedirectUris([...ids, ...extra.map((entry) => entry.id ?? entry.type)].map((id) => `${t.url}/oauth/callback/${id}`));
  const close = async () => {
    await t.close();
    await provider.close();
  };
  return { t, provider, close, [Symbol.asyncDispose]: close };
}

/** What the provider sent the browser back with. */
export interface ProviderResponse {
  /** The redirect to the service's callback, as the browser would follow it. */
  url: URL;
  code: string;
  state: string;
  iss: string | undefined;
}

/**
 * A browser starts a flow at the service, signs in at the provider as `accountId` and comes
 * back: the provider's redirect, not yet delivered to the service.
 */
export async function visitProvider(
  env: OAuthEnv,
  api: IamClient,
  accountId: string,
  options: { returnTo?: string; account?: ProviderAccount; provider?: string } = {},
): Promise<ProviderResponse> {
  if (options.account) env.provider.accounts.set(accountId, options.account);
  const { url } = await api.oauth.authorize.mutate({
    provider: options.provider ?? corp,
    ...(options.returnTo ? { returnTo: options.returnTo } : {}),
  });
  const back = await env.provider.authorize(url, accountId);
  const code = back.searchParams.get('code');
  const state = back.searchParams.get('state');
  if (!code || !state) throw new Error(`the provider came back without a code: ${back.href}`);
  return { url: back, code, state, iss: back.searchParams.get('iss') ?? undefined };
}

/** Delivers a provider response through `oauth.callback`. */
export function deliver(api: IamClient, response: Pick<ProviderResponse, 'code' | 'state' | 'iss'>, provider = corp) {
  return api.oauth.callback.mutate({ provider, code: response.code, state: response.state, iss: response.iss });
}

/** A fresh provider account id. */
let accounts = 0;
export function accountId(prefix = 'person'): string {
  accounts++;
  return `${prefix}-${accounts}-${randomBytes(3).toString('hex')}`;
}
