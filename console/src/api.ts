import type { AppRouter } from '@iam/client';
import { createAccessTokenStore, createIamClient, type IamClient, type RouterOutputs } from '@iam/client';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCContext } from '@trpc/tanstack-react-query';

/**
 * The console talks to the service that serves it, on the same origin: `<mount>/trpc` beside
 * `<mount>/console/` (the page's `<base>` says where that is), so its cookies and the CSRF
 * rules hold as for any first-party frontend.
 */
export const consoleBase = new URL(document.baseURI).pathname.replace(/\/$/, '');

/** The client's access token store, which the console reads for the active organization's claim. */
export const accessTokens = createAccessTokenStore();

export function createConsoleClient(onSessionEnd: () => void): IamClient {
  return createIamClient({ url: new URL('../trpc', document.baseURI).href, onSessionEnd, accessToken: accessTokens });
}

/**
 * The organization the session acts in, as its access token says (`org`, docs/api.md, Access
 * token): what the page shows as active. A hint only: the service checks the membership itself.
 */
export function activeOrganizationId(): string | null {
  const payload = accessTokens.get()?.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as { org?: unknown };
    return typeof claims.org === 'string' ? claims.org : null;
  } catch {
    return null;
  }
}

export function createConsoleQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: true, staleTime: 10_000 } } });
}

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type User = RouterOutputs['auth']['me'];
export type SignInResult = RouterOutputs['auth']['login'];
export type Challenge = Extract<SignInResult, { status: 'mfa_required' }>;
export type Organization = RouterOutputs['org']['get'];
export type OrganizationRole = Organization['role'];
export type SsoConnection = RouterOutputs['sso']['connections']['list']['connections'][number];
export type OidcConnection = Extract<SsoConnection, { type: 'oidc' }>;
export type SamlConnection = Extract<SsoConnection, { type: 'saml' }>;
export type SsoDomain = RouterOutputs['sso']['domains']['list']['domains'][number];
export type ScimToken = RouterOutputs['sso']['scim']['listTokens']['tokens'][number];

/**
 * A path of the service that serves the console (the mount path, where `PUBLIC_URL` points),
 * the way the client finds `../trpc`: the SCIM base URL an identity provider is given.
 */
export function serviceUrl(path: string): string {
  return new URL(`../${path}`, document.baseURI).href;
}
