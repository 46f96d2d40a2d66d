import type { AppRouter } from '@iam/server';
import { type IamErrorData, maxCallsPerBatch } from '@iam/shared';
import { createTRPCClient, httpBatchLink, httpLink, splitLink, type TRPCClient, TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import { solveBotCheck } from './botCheck';
import { type CookieJar, withCookieJar } from './cookieJar';
import { ChallengeRequiredError, iamCodeOf, type RefreshChallenge } from './errors';
import { type AccessTokenStore, createAccessTokenStore } from './session';

export type IamClient = TRPCClient<AppRouter>;

export type SessionEndReason = 'refresh_failed' | 'signed_out';

export interface IamClientOptions {
  /** The service's tRPC endpoint, e.g. `https://auth.example.com/trpc`. */
  url: string;
  fetch?: typeof fetch;
  /** Called when the session can no longer be renewed (the user must sign in again). */
  onSessionEnd?: (reason: SessionEndReason) => void;
  /**
   * Called when a refresh the client made by itself answered a challenge (a new country, a
   * missing device cookie…): show the user the code prompt for `challenge.challengeId`. The
   * calls waiting on that refresh reject with `ChallengeRequiredError` carrying the same challenge.
   */
  onChallenge?: (challenge: RefreshChallenge) => void;
  /** Node only: keep the service's cookies (refresh token, device canary) in this jar. */
  cookieJar?: CookieJar;
  /** Where the access token lives; pass one to read or set it yourself. */
  accessToken?: AccessTokenStore;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /**
   * A call refused with `BOT_CHECK_REQUIRED` is solved (the proof of work in
   * `error.data.botCheck`) and sent again once with its solution (default `'auto'`); `'off'`
   * hands the refusal to the caller (solve it with `solveBotCheck`, e.g. behind a spinner).
   */
  botCheck?: 'auto' | 'off';
}

const refreshPath = 'session.refresh';
/** Errors an authenticated call fails with that a refresh can cure. */
const refreshableCodes = new Set(['TOKEN_EXPIRED', 'UNAUTHENTICATED']);

/**
 * The typed client. It keeps the access token in memory and sends it as Bearer; when an
 * authenticated call fails because the token expired, it refreshes once (one refresh shared
 * by every call that failed meanwhile) and retries. Refresh calls are never batched.
 */
export function createIamClient(options: IamClientOptions): IamClient {
  const store = options.accessToken ?? createAccessTokenStore();
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  // Browsers: send the cookies to the service's origin too (refresh token, canary).
  const credentialedFetch: typeof fetch = (input, init) => baseFetch(input, { ...init, credentials: 'include' });
  const fetchImpl = options.cookieJar ? withCookieJar(options.cookieJar, credentialedFetch) : credentialedFetch;
  const headers = () => {
    const token = store.get();
    return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  };

  const transport = splitLink<AppRouter>({
    condition: (op) => op.path === refreshPath,
    true: httpLink({ url: options.url, transformer: superjson, fetch: fetchImpl, headers }),
    false: httpBatchLink({ url: options.url, transformer: superjson, fetch: fetchImpl, headers, maxItems: maxCallsPerBatch }),
  });

  // A separate, unbatched client for the refresh itself, so it never recurses through the retry link.
  const refresher = createTRPCClient<AppRouter>({ links: [captureTokens(store), transport] });
  let inFlight: Promise<RefreshOutcome> | null = null;
  const refreshOnce = (): Promise<RefreshOutcome> => {
    inFlight ??= refresher.session.refresh
      .mutate()
      .then((result): RefreshOutcome => {
        if (result.status === 'authenticated') return { kind: 'renewed' };
        // Nothing rotated and the session lives on: the app asks the user for the code.
        options.onChallenge?.(result);
        return { kind: 'challenge', challenge: result };
      })
      .catch((error: unknown): RefreshOutcome => {
        // Only a refusal ends the session; a network failure leaves it for the next try.
        if (iamCodeOf(error)) {
          store.set(null);
          options.onSessionEnd?.('refresh_failed');
        }
        return { kind: 'failed' };
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  return createTRPCClient<AppRouter>({
    links: [
      ...(options.botCheck === 'off' ? [] : [solveAndRetry()]),
      refreshAndRetry(refreshOnce),
      captureTokens(store, options.onSessionEnd),
      transport,
    ],
  });
}

/** Remembers the access token of every `AuthResult`, and forgets it on sign-out. */
function captureTokens(store: AccessTokenStore, onSessionEnd?: (reason: SessionEndReason) => void): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) =>
        next(op).subscribe({
          next(result) {
            const data = result.result.type === 'data' ? (result.result.data as unknown) : undefined;
            if (isAuthResult(data)) store.set(data.accessToken, data.accessTokenExpiresAt);
            if (op.path === 'auth.logout') {
              store.set(null);
              onSessionEnd?.('signed_out');
            }
            observer.next(result);
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        }),
      );
}

type RefreshOutcome = { kind: 'renewed' } | { kind: 'challenge'; challenge: RefreshChallenge } | { kind: 'failed' };

function refreshAndRetry(refreshOnce: () => Promise<RefreshOutcome>): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription = next(op).subscribe({
          next: (result) => observer.next(result),
          complete: () => observer.complete(),
          error(error) {
            const code = iamCodeOf(error);
            if (op.path === refreshPath || !code || !refreshableCodes.has(code)) {
              observer.error(error);
              return;
            }
            refreshOnce().then(
              (outcome) => {
                if (outcome.kind === 'challenge') {
                  observer.error(TRPCClientError.from(new ChallengeRequiredError(outcome.challenge)));
                  return;
                }
                if (outcome.kind === 'failed') {
                  observer.error(error);
                  return;
                }
                subscription = next(op).subscribe(observer);
              },
              () => observer.error(error),
            );
          },
        });
        return () => subscription.unsubscribe();
      });
}

/** A call refused for want of a bot check is solved and sent again, once, with the solution. */
function solveAndRetry(): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription = next(op).subscribe({
          next: (result) => observer.next(result),
          complete: () => observer.complete(),
          error(error) {
            const challenge = iamCodeOf(error) === 'BOT_CHECK_REQUIRED' ? (error.data as IamErrorData | undefined)?.botCheck : undefined;
            const input = op.input as Record<string, unknown> | undefined;
            if (!challenge || typeof input !== 'object' || input === null || 'botCheck' in input) {
              observer.error(error);
              return;
            }
            solveBotCheck(challenge).then(
              (botCheck) => {
                subscription = next({ ...op, input: { ...input, botCheck } }).subscribe(observer);
              },
              () => observer.error(error),
            );
          },
        });
        return () => subscription.unsubscribe();
      });
}

function isAuthResult(value: unknown): value is { status: 'authenticated'; accessToken: string; accessTokenExpiresAt: Date } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { status?: unknown }).status === 'authenticated' &&
    typeof (value as { accessToken?: unknown }).accessToken === 'string'
  );
}
