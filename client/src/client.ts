import { type IamErrorData, maxCallsPerBatch } from '@iam/shared';
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  type Operation,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
} from '@trpc/client';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import { solveBotCheck } from './botCheck';
import { type CookieJar, withCookieJar } from './cookieJar';
import { ChallengeRequiredError, iamCodeOf, type RefreshChallenge } from './errors';
import type { AppRouter } from './router';
import { type AccessTokenStore, createAccessTokenStore } from './session';
import { createTabCoordinator, type RefreshOutcome } from './tabs';

export type IamClient = TRPCClient<AppRouter>;

/**
 * Why a session ended: a refresh was refused, the user signed out (here or in another tab), or
 * a call learned that the session was revoked elsewhere or the account disabled.
 */
export type SessionEndReason = 'refresh_failed' | 'signed_out' | 'revoked';

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
  /**
   * Browsers: one refresh across the tabs of this service (Web Locks, or a BroadcastChannel
   * where there are none), its new access token shared with the others, and a sign-out in one
   * tab signing out the others. Default on in browsers (`'auto'`); never with a `cookieJar`.
   */
  crossTab?: 'auto' | 'off';
  /**
   * Refresh before the access token expires instead of when a call fails: `secondsBeforeExpiry`
   * (default 60) ahead, less a random jitter of up to a third of it so tabs and clients spread
   * out; a refresh the network lost is tried again with exponential backoff and jitter
   * (`retryBaseInMs`, default 1,000), at most `maxRetries` times (default 5). Off by default.
   */
  refreshAhead?: { secondsBeforeExpiry?: number; maxRetries?: number; retryBaseInMs?: number } | boolean;
}

const refreshPath = 'session.refresh';
/** Errors an authenticated call fails with that a refresh can cure. */
const refreshableCodes = new Set(['TOKEN_EXPIRED', 'UNAUTHENTICATED']);
/** Errors that mean the session is over for good. */
const endingCodes = new Set(['SESSION_REVOKED', 'USER_DISABLED']);

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
  const ahead = refreshAheadOptions(options.refreshAhead);
  let aheadTimer: ReturnType<typeof setTimeout> | undefined;

  /** What an outcome means here, whichever tab's refresh it was. */
  const apply = (outcome: RefreshOutcome) => {
    if (outcome.kind === 'renewed') store.set(outcome.accessToken, outcome.accessTokenExpiresAt);
    // Nothing rotated and the session lives on: the app asks the user for the code.
    if (outcome.kind === 'challenge') options.onChallenge?.(outcome.challenge);
    if (outcome.kind === 'ended') {
      store.set(null);
      options.onSessionEnd?.('refresh_failed');
    }
    if (outcome.kind !== 'unreachable') schedule(outcome.kind === 'renewed' ? 0 : null);
  };
  const tabs =
    options.crossTab !== 'off' && !options.cookieJar && typeof window !== 'undefined'
      ? createTabCoordinator({
          name: `iam:${options.url}`,
          onOutcome: apply,
          onSignedOut: () => {
            store.set(null);
            clearTimeout(aheadTimer);
            options.onSessionEnd?.('signed_out');
          },
        })
      : null;

  const refreshHere = (): Promise<RefreshOutcome> =>
    refresher.session.refresh.mutate().then(
      (result): RefreshOutcome =>
        result.status === 'authenticated'
          ? { kind: 'renewed', accessToken: result.accessToken, accessTokenExpiresAt: result.accessTokenExpiresAt }
          : { kind: 'challenge', challenge: result },
      // Only a refusal ends the session; a network failure leaves it for the next try.
      (error: unknown): RefreshOutcome => (iamCodeOf(error) ? { kind: 'ended' } : { kind: 'unreachable' }),
    );

  let inFlight: Promise<RefreshOutcome> | null = null;
  const refreshOnce = (): Promise<RefreshOutcome> => {
    inFlight ??= (tabs ? tabs.refresh(refreshHere) : refreshHere())
      .then((outcome) => {
        apply(outcome);
        return outcome;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  /**
   * Refresh-ahead: the next refresh is due `secondsBeforeExpiry` (less jitter) before the token
   * expires; `attempt` counts the network failures since the last success.
   */
  function schedule(attempt: number | null): void {
    clearTimeout(aheadTimer);
    if (!ahead || attempt === null) return;
    const expiresAt = store.expiresAt();
    if (!store.get() || !expiresAt) return;
    const lead = ahead.secondsBeforeExpiry * 1000;
    const remaining = expiresAt.getTime() - Date.now();
    // Never sooner than a quarter of the token's life left (at least a second): a lead longer
    // than the token lives would otherwise refresh in a loop.
    const floor = Math.max(1_000, remaining / 4);
    const delay =
      attempt === 0
        ? Math.min(Math.max(0, remaining - 1_000), Math.max(floor, remaining - lead - Math.random() * (lead / 3)))
        : Math.random() * ahead.retryBaseInMs * 2 ** (attempt - 1);
    const settings = ahead;
    aheadTimer = setTimeout(() => {
      void refreshOnce().then((outcome) => {
        if (outcome.kind === 'unreachable') schedule(attempt < settings.maxRetries ? attempt + 1 : null);
      });
    }, delay);
    // Node: a pending refresh never keeps the process alive.
    (aheadTimer as { unref?: () => void }).unref?.();
  }

  const signedOut = () => {
    clearTimeout(aheadTimer);
    tabs?.signedOut();
  };

  return createTRPCClient<AppRouter>({
    links: [
      ...(options.botCheck === 'off' ? [] : [solveAndRetry()]),
      refreshAndRetry(refreshOnce, store),
      captureTokens(store, options.onSessionEnd, { onSignedIn: () => schedule(0), onSignedOut: signedOut }),
      transport,
    ],
  });
}

function refreshAheadOptions(option: IamClientOptions['refreshAhead']) {
  if (!option) return null;
  const given = option === true ? {} : option;
  return {
    secondsBeforeExpiry: given.secondsBeforeExpiry ?? 60,
    maxRetries: given.maxRetries ?? 5,
    retryBaseInMs: given.retryBaseInMs ?? 1_000,
  };
}

/** Remembers the access token of every `AuthResult`, and forgets it on sign-out. */
function captureTokens(
  store: AccessTokenStore,
  onSessionEnd?: (reason: SessionEndReason) => void,
  hooks: { onSignedIn?: () => void; onSignedOut?: () => void } = {},
): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) =>
        next(op).subscribe({
          next(result) {
            const data = result.result.type === 'data' ? (result.result.data as unknown) : undefined;
            if (isAuthResult(data)) {
              store.set(data.accessToken, data.accessTokenExpiresAt);
              hooks.onSignedIn?.();
            } else if (op.path === 'org.switch' && hasAccessToken(data)) {
              // The same session with another active organization: its new token replaces the old.
              store.set(data.accessToken, data.accessTokenExpiresAt);
            }
            if (op.path === 'auth.logout') {
              store.set(null);
              hooks.onSignedOut?.();
              onSessionEnd?.('signed_out');
            }
            observer.next(result);
          },
          error(error) {
            // The session was revoked (another device, an admin) or the account disabled: no
            // refresh can cure that, so the token is dropped and the app told at once.
            if (store.get() && endingCodes.has(iamCodeOf(error) ?? '')) {
              store.set(null);
              hooks.onSignedOut?.();
              onSessionEnd?.('revoked');
            }
            observer.error(error);
          },
          complete: () => observer.complete(),
        }),
      );
}

/**
 * A link that may answer a failed call by sending it again: `recover` gives the operation to
 * send (once), an error to fail with instead, or null to pass the failure on.
 */
function retryLink(
  recover: (error: TRPCClientError<AppRouter>, op: Operation) => Promise<Operation | Error | null> | null,
): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription = next(op).subscribe({
          next: (result) => observer.next(result),
          complete: () => observer.complete(),
          error(error) {
            const recovery = recover(error, op);
            if (!recovery) {
              observer.error(error);
              return;
            }
            recovery.then(
              (outcome) => {
                if (outcome === null) observer.error(error);
                else if (outcome instanceof Error) observer.error(TRPCClientError.from(outcome));
                else subscription = next(outcome).subscribe(observer);
              },
              () => observer.error(error),
            );
          },
        });
        return () => subscription.unsubscribe();
      });
}

/** A call that failed on an expired token waits for the one refresh, then goes again. */
function refreshAndRetry(refreshOnce: () => Promise<RefreshOutcome>, store: AccessTokenStore): TRPCLink<AppRouter> {
  // The token each call went out with: a call that fails after another call's refresh already
  // renewed the token goes again with the new one instead of asking for a second refresh.
  const sentWith = new WeakMap<Operation, string | null>();
  const retrying = retryLink((error, op) => {
    const code = iamCodeOf(error);
    if (op.path === refreshPath || !code || !refreshableCodes.has(code)) return null;
    const current = store.get();
    if (current !== null && sentWith.has(op) && sentWith.get(op) !== current) return Promise.resolve(op);
    return refreshOnce().then((outcome) => {
      if (outcome.kind === 'challenge') return new ChallengeRequiredError(outcome.challenge);
      return outcome.kind === 'renewed' ? op : null;
    });
  });
  return (runtime) => {
    const link = retrying(runtime);
    return ({ op, next }) => {
      sentWith.set(op, store.get());
      return link({ op, next });
    };
  };
}

/** A call refused for want of a bot check is solved and sent again, once, with the solution. */
function solveAndRetry(): TRPCLink<AppRouter> {
  return retryLink((error, op) => {
    const challenge = iamCodeOf(error) === 'BOT_CHECK_REQUIRED' ? (error.data as IamErrorData | undefined)?.botCheck : undefined;
    const input = op.input as Record<string, unknown> | undefined;
    if (!challenge || typeof input !== 'object' || input === null || 'botCheck' in input) return null;
    return solveBotCheck(challenge).then((botCheck) => ({ ...op, input: { ...input, botCheck } }));
  });
}

function hasAccessToken(value: unknown): value is { accessToken: string; accessTokenExpiresAt: Date } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { accessToken?: unknown }).accessToken === 'string' &&
    (value as { accessTokenExpiresAt?: unknown }).accessTokenExpiresAt instanceof Date
  );
}

function isAuthResult(value: unknown): value is { status: 'authenticated'; accessToken: string; accessTokenExpiresAt: Date } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { status?: unknown }).status === 'authenticated' &&
    typeof (value as { accessToken?: unknown }).accessToken === 'string'
  );
}
