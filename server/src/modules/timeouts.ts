import { defaultPingTimeoutInMs, defaultQueryTimeoutInMs } from '../db/client';

/**
 * How long the service waits before it gives up and answers (docs/operations.md, timeouts and
 * deadlines); every duration in milliseconds.
 */
export interface Timeouts {
  /** Each database query, the wait for a pooled connection and the opening of a new one. */
  databaseQueryInMs: number;
  /** A procedure call not done by then is answered 503 `SERVICE_UNAVAILABLE`. */
  requestDeadlineInMs: number;
  /** `/readyz` answers 503 when the database has not answered its `SELECT 1` by then. */
  readinessInMs: number;
}

export const defaultTimeouts: Timeouts = {
  databaseQueryInMs: defaultQueryTimeoutInMs,
  requestDeadlineInMs: 10_000,
  readinessInMs: defaultPingTimeoutInMs,
};

/** The longest any of them may be set to: ten minutes. */
export const maxTimeoutInMs = 600_000;

/** The defaults with the overrides applied; each must be a whole number of milliseconds from 1 to ten minutes. */
export function resolveTimeouts(overrides: Partial<Timeouts> = {}): Timeouts {
  const timeouts = { ...defaultTimeouts };
  for (const key of Object.keys(defaultTimeouts) as Array<keyof Timeouts>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1 || value > maxTimeoutInMs)
      throw new Error(`timeouts.${key} must be a whole number of milliseconds from 1 to ${maxTimeoutInMs}.`);
    timeouts[key] = value;
  }
  return timeouts;
}

const expired = Symbol('expired');

/**
 * What `work` settles to, or what `onTimeout` returns (or throws) when it has not settled within
 * `timeoutInMs`. The work itself goes on; its late outcome is dropped.
 */
export async function withinTimeout<T, F>(work: Promise<T>, timeoutInMs: number, onTimeout: () => F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof expired>((resolve) => {
    timer = setTimeout(() => resolve(expired), timeoutInMs);
  });
  try {
    const outcome = await Promise.race([work, deadline]);
    return outcome === expired ? onTimeout() : outcome;
  } finally {
    clearTimeout(timer);
  }
}
