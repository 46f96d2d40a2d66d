import type { AppRouter } from '@iam/client';
import { createIamClient, type IamClient, type RouterOutputs } from '@iam/client';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCContext } from '@trpc/tanstack-react-query';

/**
 * The console talks to the service that serves it, on the same origin: `<mount>/trpc` beside
 * `<mount>/console/` (the page's `<base>` says where that is), so its cookies and the CSRF
 * rules hold as for any first-party frontend.
 */
export const consoleBase = new URL(document.baseURI).pathname.replace(/\/$/, '');

export function createConsoleClient(onSessionEnd: () => void): IamClient {
  return createIamClient({ url: new URL('../trpc', document.baseURI).href, onSessionEnd });
}

export function createConsoleQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: true, staleTime: 10_000 } } });
}

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type User = RouterOutputs['auth']['me'];
export type SignInResult = RouterOutputs['auth']['login'];
export type Challenge = Extract<SignInResult, { status: 'mfa_required' }>;
