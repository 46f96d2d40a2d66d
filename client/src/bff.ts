import { maxCallsPerBatch } from '@iam/shared';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from './router';
import { signRequest } from './signing';

export interface BffClientOptions {
  /** The service's tRPC endpoint, e.g. `https://auth.internal/trpc`. */
  url: string;
  /** A key id of the service's `HMAC_KEYS`. */
  keyId: string;
  /** Its secret, as written in `HMAC_KEYS`. */
  secret: string;
  fetch?: typeof fetch;
  /** Extra headers for every request (never `cookie`: a BFF client sends no cookies). */
  headers?: Record<string, string>;
  /** The signing clock in Unix milliseconds (default `Date.now`); the service accepts ±300 s. */
  now?: () => number;
}

/**
 * The typed client of a BFF server: `bff.login`, `bff.signup`, `bff.verifyEmail` and
 * `bff.verifyChallenge` sign the browser in, `bff.introspect`, `bff.authorize`, `bff.refresh`,
 * `bff.logout` and `bff.verifyApiKey` do the rest.
 */
export type BffClient = TRPCClient<AppRouter>;

/**
 * A client for a BFF (or any trusted server) that signs every request with an HMAC key: the
 * exact body string tRPC sends and the path with query as sent. Batches hold at most 10 calls
 * (the service's cap) and no cookie is ever sent.
 */
export function createBffClient(options: BffClientOptions): BffClient {
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const signedFetch: typeof fetch = async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = init.body ?? null;
    if (body !== null && typeof body !== 'string') throw new TypeError('createBffClient signs string bodies only');
    const method = (init.method ?? 'GET').toUpperCase();
    const signature = await signRequest({
      method,
      url,
      body,
      keyId: options.keyId,
      secret: options.secret,
      timestamp: (options.now ?? Date.now)(),
    });
    const headers = new Headers(init.headers);
    headers.delete('cookie');
    for (const [name, value] of Object.entries(signature)) headers.set(name, value);
    return baseFetch(url, { ...init, method, headers, credentials: 'omit' });
  };
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: options.url,
        transformer: superjson,
        fetch: signedFetch,
        maxItems: maxCallsPerBatch,
        ...(options.headers ? { headers: options.headers } : {}),
      }),
    ],
  });
}
