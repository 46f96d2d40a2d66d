import type { RefreshChallenge } from './errors';

/** What a refresh came to, as every tab of the browser learns it. */
export type RefreshOutcome =
  | { kind: 'renewed'; accessToken: string; accessTokenExpiresAt: Date }
  | { kind: 'challenge'; challenge: RefreshChallenge }
  /** The service refused it: the session is over. */
  | { kind: 'ended' }
  /** The service could not be reached: the session may live on; try again later. */
  | { kind: 'unreachable' };

type Message =
  | { type: 'refreshing'; tab: string }
  | { type: 'refreshed'; tab: string; outcome: RefreshOutcome }
  | { type: 'signed_out'; tab: string };

/**
 * The tabs of one browser that talk to one service share its refresh cookie, so one refresh
 * serves them all: with Web Locks, the tab that holds the lock refreshes and the others wait
 * for the outcome it broadcasts; without them, a tab that hears another announce a refresh
 * waits for its outcome instead of sending its own (two that announce at once both send, and
 * the service answers the second with the same successor from its grace window). The new
 * access token travels to the other tabs on the channel: same origin, the same trust as the
 * memory it lives in.
 */
export interface TabCoordinator {
  /** Runs `refresh` as the one refresh of the browser, or waits for the one under way. */
  refresh(refresh: () => Promise<RefreshOutcome>): Promise<RefreshOutcome>;
  /** Tells the other tabs this one signed out. */
  signedOut(): void;
  close(): void;
}

/** How long a tab waits for another's outcome before it refreshes itself. */
const waitForOtherTabInMs = 10_000;

export function createTabCoordinator(options: {
  name: string;
  /** Another tab's outcome (a new token, a challenge, the end) or its sign-out. */
  onOutcome: (outcome: RefreshOutcome) => void;
  onSignedOut: () => void;
}): TabCoordinator | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const tab = Math.random().toString(36).slice(2);
  const channel = new BroadcastChannel(options.name);
  const waiting = new Set<(outcome: RefreshOutcome) => void>();
  let otherRefreshingSince = 0;
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks;

  channel.onmessage = (event: MessageEvent<Message>) => {
    const message = event.data;
    if (!message || message.tab === tab) return;
    if (message.type === 'refreshing') otherRefreshingSince = Date.now();
    if (message.type === 'signed_out') options.onSignedOut();
    if (message.type === 'refreshed') {
      otherRefreshingSince = 0;
      const outcome = revive(message.outcome);
      options.onOutcome(outcome);
      for (const resolve of waiting) resolve(outcome);
      waiting.clear();
    }
  };

  const otherTabsOutcome = () =>
    new Promise<RefreshOutcome | null>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(done);
        resolve(null);
      }, waitForOtherTabInMs);
      const done = (outcome: RefreshOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      waiting.add(done);
    });

  const runAndShare = async (refresh: () => Promise<RefreshOutcome>) => {
    channel.postMessage({ type: 'refreshing', tab } satisfies Message);
    const outcome = await refresh();
    // A network failure is this tab's own; the others try for themselves.
    if (outcome.kind !== 'unreachable') channel.postMessage({ type: 'refreshed', tab, outcome } satisfies Message);
    return outcome;
  };

  return {
    async refresh(refresh) {
      if (locks) {
        const name = `${options.name}:refresh`;
        // Whoever takes the lock refreshes; a tab that finds it taken waits for the outcome.
        const mine = await locks.request(name, { ifAvailable: true }, async (lock) => (lock ? runAndShare(refresh) : null));
        if (mine) return mine;
        const theirs = await otherTabsOutcome();
        return theirs ?? locks.request(name, () => runAndShare(refresh));
      }
      if (Date.now() - otherRefreshingSince < waitForOtherTabInMs) {
        const theirs = await otherTabsOutcome();
        if (theirs) return theirs;
      }
      return runAndShare(refresh);
    },
    signedOut() {
      channel.postMessage({ type: 'signed_out', tab } satisfies Message);
    },
    close() {
      channel.close();
      for (const resolve of waiting) resolve({ kind: 'unreachable' });
      waiting.clear();
    },
  };
}

/** Dates cross the channel as Dates (structured clone); a defensive copy all the same. */
function revive(outcome: RefreshOutcome): RefreshOutcome {
  return outcome.kind === 'renewed' ? { ...outcome, accessTokenExpiresAt: new Date(outcome.accessTokenExpiresAt) } : outcome;
}
