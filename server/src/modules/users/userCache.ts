import { performance } from 'node:perf_hooks';
import { gte, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { type UserRow, users } from '../../db/tables';
import { repeatEvery } from '../polling';
import { findUserById } from './users';

/**
 * User rows by id, kept in memory for reads that may be a moment old (`auth.me`), so an
 * authenticated call that shows the user reads no row. Eventually consistent across
 * instances:
 *
 * - the instance that changes a user forgets the row as soon as the change commits (the flow
 *   calls `invalidate`), so its own next read is fresh;
 * - every other instance forgets it within `pollIntervalInMs` (1 s): each polls the rows whose
 *   `changed_at` moved, a column the database stamps on every change of the row, so no write
 *   can forget to announce itself; with Redis, `invalidate` also reaches them at once;
 * - a deleted row leaves no `changed_at` to poll: other instances forget it through Redis, or
 *   at the latest when its entry expires (`ttlInMs`). Deletion revokes the user's sessions first,
 *   so their tokens are refused before any read of this cache.
 *
 * Not for a decision that must see the latest row (an admin's role check, sign-in, a password
 * or second-factor check, a step-up, anything in a transaction): those read the database.
 */
export interface UserCache {
  /** The user's row, from memory when known here; null when there is no such user (never cached). */
  get(id: string): Promise<UserRow | null>;
  /** Forgets a user here and, with Redis, on every instance: call after the change has committed. */
  invalidate(id: string): void;
  start(): Promise<void>;
  stop(): void;
}

export function createUserCache(deps: {
  /** Where a missing row is read from: the request path's pool. */
  db: Database;
  /** Where the poll runs: the auxiliary pool, so it never takes a sign-in's connection. */
  auxDb: Database;
  logger: Logger;
  redis?: Redis;
  pollIntervalInMs?: number;
  /** A safety net: an entry is read again after this long whatever the feed says (default 60 s). */
  ttlInMs?: number;
  maxEntries?: number;
}): UserCache {
  const ttlInMs = deps.ttlInMs ?? 60_000;
  // About 1.2 kB a row: the users active within the TTL, up to ~12 MB. lru-cache measures
  // the TTL on the monotonic clock, never on the service's (movable) clock.
  const rows = new LRUCache<string, UserRow>({ max: deps.maxEntries ?? 10_000, ttl: ttlInMs });
  /** Reads under way, shared by concurrent misses of one id. */
  const reading = new Map<string, Promise<UserRow | null>>();
  /** Counts invalidations: a read that began before one may hold the old row and is not kept. */
  let invalidations = 0;
  // Re-read a little of the past on every poll: an UPDATE stamps `changed_at` when it runs,
  // and its transaction may commit after the next poll has looked.
  const overlapInMs = 10_000;
  // More changed rows than this in one window (a bulk UPDATE, a backfill) and the poll forgets
  // everything instead of reading every id for the next ten seconds.
  const pollLimit = 10_000;
  /** When the last poll that answered began, on the monotonic clock (`performance.now()`). */
  let lastPollAt: number | undefined;
  let polling: { stop(): void } | undefined;
  let subscriber: Redis | undefined;
  const channel = 'iam:user-changes';

  function forget(id: string): void {
    invalidations++;
    rows.delete(id);
    reading.delete(id);
  }

  function forgetAll(): void {
    invalidations++;
    rows.clear();
    reading.clear();
  }

  function read(id: string): Promise<UserRow | null> {
    const seen = invalidations;
    const pending = findUserById(deps.db, id)
      .then((row) => {
        if (row && invalidations === seen) rows.set(id, row);
        return row;
      })
      .finally(() => {
        if (reading.get(id) === pending) reading.delete(id);
      });
    reading.set(id, pending);
    return pending;
  }

  /**
   * Forgets the rows changed since the previous poll (plus the overlap). The window is measured
   * back from the database's `NOW(3)`, the clock that stamped `changed_at`, by the monotonic time
   * since the last poll that answered: neither the service's wall clock nor its skew enters. A
   * window never needs to reach back further than the TTL: older entries are gone anyway.
   */
  async function poll(): Promise<void> {
    const startedAt = performance.now();
    const windowInMs = Math.min(lastPollAt === undefined ? 0 : startedAt - lastPollAt, ttlInMs) + overlapInMs;
    const changed = await deps.auxDb
      .select({ id: users.id })
      .from(users)
      .where(gte(users.changedAt, sql`NOW(3) - INTERVAL ${Math.ceil(windowInMs * 1000)} MICROSECOND`))
      .limit(pollLimit);
    if (changed.length >= pollLimit) forgetAll();
    else for (const { id } of changed) if (rows.has(id) || reading.has(id)) forget(id);
    lastPollAt = startedAt;
  }

  return {
    get(id) {
      const row = rows.get(id);
      if (row) return Promise.resolve(row);
      return reading.get(id) ?? read(id);
    },
    invalidate(id) {
      forget(id);
      deps.redis?.publish(channel, id).catch((error: unknown) => {
        // The poll of `changed_at` still carries it within a second (a deletion: the TTL).
        deps.logger.warn({ err: error }, 'user-change fan-out failed');
      });
    },
    async start() {
      if (deps.redis) {
        subscriber = deps.redis.duplicate();
        // Its connection errors are the main client's too, and logged there once.
        subscriber.on('error', () => {});
        subscriber.on('message', (_channel: string, message: string) => {
          if (typeof message === 'string' && message.length > 0) forget(message);
        });
        await subscriber.subscribe(channel);
      }
      await poll();
      polling = repeatEvery(deps.pollIntervalInMs ?? 1_000, poll, (error) =>
        deps.logger.warn({ err: error }, 'user-change poll failed; retrying'),
      );
    },
    stop() {
      polling?.stop();
      polling = undefined;
      subscriber?.disconnect();
      subscriber = undefined;
      forgetAll();
    },
  };
}
