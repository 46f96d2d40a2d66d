import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { isTransientConflictError } from '../../db/client';
import type { LimitSpec } from './limits';

/** What the store sends its statements through: the auxiliary pool's promise face, or one connection. */
export type LimiterSql = Pick<Connection, 'query'>;

/** A counter as the table holds it. `expire` is Unix milliseconds; null never expires. */
export interface StoredCounter {
  points: number;
  expire: number | null;
}

/** The outcome of one hit: the total it brought the counter to, and when that counter's window ends. */
export interface HitResult {
  total: number;
  /** When the key can be counted again, in ms; only read when the hit went over the limit. */
  retryAfterMs: number;
}

export interface MysqlLimiterStore {
  hit(rowKey: string, points: number, spec: LimitSpec): Promise<HitResult>;
  /** The live counters of the keys (absent and expired ones are missing from the map). One SELECT. */
  read(rowKeys: string[]): Promise<Map<string, StoredCounter>>;
  reward(rowKey: string, points: number): Promise<void>;
  block(rowKey: string, seconds: number, spec: LimitSpec): Promise<void>;
  reset(rowKey: string): Promise<void>;
  /**
   * `reset` of one counter and `reward` of another in one statement (a sign-in that succeeded
   * clears its pair's failures and gives its IP back the failure reserved for it).
   */
  resetAndReward(resetRowKey: string, reward: { rowKey: string; points: number }): Promise<void>;
  /** Deletes counters that expired before `olderThan` (Unix ms). */
  sweep(olderThan: number): Promise<void>;
}

/**
 * The `rate_limits` table (`key`, `points`, `expire`: rate-limiter-flexible's MySQL layout, so
 * rows written by earlier versions stay valid) with every operation a single autocommit
 * statement: no transaction, no `SELECT … FOR UPDATE`, so a hit is one round trip and
 * concurrent hits on one key hold its row lock only for the statement itself.
 *
 * A hit is one `INSERT … ON DUPLICATE KEY UPDATE`. InnoDB runs it under the row's exclusive
 * lock, so concurrent hits on one key, from any instance, are serialised and each sees the
 * total the one before it left: N hits on a limit of P let exactly P through. The new total
 * comes back in the OK packet: `points = LAST_INSERT_ID(total)` makes the packet's insert id
 * that total (the table has no AUTO_INCREMENT, so an inserted row reports 0 there).
 *
 * The statement needs the assignments of `ON DUPLICATE KEY UPDATE` evaluated left to right,
 * each seeing the columns assigned before it (MySQL's documented order, and MariaDB's unless
 * its non-default SIMULTANEOUS_ASSIGNMENT sql_mode is set): `points` comes first and reads the
 * old `expire`; `expire` then reads the old `expire` (its own column) and the new `points`.
 * (Under SIMULTANEOUS_ASSIGNMENT the counting stays exact; only a limit's block would start
 * one hit after the crossing.)
 * It uses neither `VALUES()` (deprecated from MySQL 8.0.20) nor the row alias (MySQL only), so
 * the same text runs on MariaDB and MySQL.
 */
export function createMysqlLimiterStore(deps: {
  sql: LimiterSql;
  /** Unix milliseconds; the wall clock by default (the windows are real time). */
  now?: () => number;
}): MysqlLimiterStore {
  const now = deps.now ?? Date.now;
  // When a refused key's window ends, as last read here, for a second: a flood refused on one
  // key costs one read of its `expire` a second, not one per call. Only the wait it reports can
  // lag (a block or reset made elsewhere within that second); the refusal itself always comes
  // from the total the statement returned.
  const refusalEnds = new LRUCache<string, number>({ max: 10_000, ttl: 1_000 });
  const run = async <T extends ResultSetHeader | RowDataPacket[]>(statement: string, values: unknown[]): Promise<T> => {
    // A single statement is re-issued whole if InnoDB gives it up as a deadlock victim or a
    // lock wait timeout, or a cluster as a certification failure: it was rolled back, so running
    // it again counts once. Five attempts: one hot key hit from several cluster nodes at once
    // loses certification often, and a hit that runs out of attempts fails its call (503).
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await deps.sql.query<T>(statement, values);
        return result;
      } catch (error) {
        if (attempt >= 5 || !isTransientConflictError(error)) throw error;
        await sleep(attempt * 5 + Math.floor(Math.random() * 10));
      }
    }
  };

  return {
    async hit(rowKey, points, spec) {
      const at = now();
      const windowEnd = at + spec.durationInSeconds * 1000;
      const blockMs = (spec.blockInSeconds ?? 0) * 1000;
      const blockEnd = at + blockMs;
      // Going over the points blocks the key, when the limit has a block: the hit that crosses
      // the limit sets `expire` to now + the block, whatever was left of the window (as
      // rate-limiter-flexible's blockDuration did: "5 failures → 15 min" ends after 15 min even
      // in a 24 h window); the hits after it count on without extending it. A crossing is
      // `points` (already the new total) over the limit while the total before this hit was not.
      const header = await run<ResultSetHeader>(
        `INSERT INTO rate_limits (\`key\`, points, expire) VALUES (?, ?, ?)
          ON DUPLICATE KEY UPDATE
            points = LAST_INSERT_ID(GREATEST(IF(expire <= ?, 0, points) + ?, 0)),
            expire = CASE
              WHEN ? > 0 AND points > ? AND points - ? <= ? THEN ?
              WHEN expire <= ? THEN ?
              ELSE expire
            END`,
        [
          rowKey,
          points,
          blockMs > 0 && points > spec.points ? blockEnd : windowEnd,
          at,
          points,
          blockMs,
          spec.points,
          points,
          spec.points,
          blockEnd,
          at,
          windowEnd,
        ],
      );
      // affectedRows 1 with insert id 0: the row was inserted, its total is this hit. Otherwise
      // (2: updated; 0, or 1 with mysql2's FOUND_ROWS flag: set to what it held) the insert id
      // is the total LAST_INSERT_ID carried. A negative count left by an old reward is floored at 0.
      const total = header.affectedRows === 1 && header.insertId === 0 ? points : header.insertId;
      if (total <= spec.points) return { total, retryAfterMs: 0 };
      const crossed = total - points <= spec.points;
      if (crossed && blockMs > 0) {
        refusalEnds.set(rowKey, blockEnd);
        return { total, retryAfterMs: blockMs };
      }
      const known = refusalEnds.get(rowKey);
      if (known !== undefined && known > at) return { total, retryAfterMs: known - at };
      // Over the limit (rare): one more read for how long the refusal lasts.
      const rows = await run<RowDataPacket[]>('SELECT expire FROM rate_limits WHERE `key` = ?', [rowKey]);
      const expire = rows[0]?.expire == null ? null : Number(rows[0].expire);
      if (expire === null) return { total, retryAfterMs: 0 };
      refusalEnds.set(rowKey, expire);
      return { total, retryAfterMs: Math.max(0, expire - now()) };
    },

    async read(rowKeys) {
      const counters = new Map<string, StoredCounter>();
      if (rowKeys.length === 0) return counters;
      const rows = await run<RowDataPacket[]>(
        'SELECT `key`, points, expire FROM rate_limits WHERE `key` IN (?) AND (expire > ? OR expire IS NULL)',
        [rowKeys, now()],
      );
      for (const row of rows) {
        counters.set(String(row.key), { points: Number(row.points), expire: row.expire == null ? null : Number(row.expire) });
      }
      return counters;
    },

    async reward(rowKey, points) {
      // Gives back points of a live window only, never below zero: an expired or absent counter
      // has nothing to give back, and a reward must not become credit for later attempts.
      await run<ResultSetHeader>(
        'UPDATE rate_limits SET points = GREATEST(points - ?, 0) WHERE `key` = ? AND (expire > ? OR expire IS NULL)',
        [points, rowKey, now()],
      );
    },

    async block(rowKey, seconds, spec) {
      // As rate-limiter-flexible's block: one over the points, until now + seconds.
      const expire = now() + seconds * 1000;
      refusalEnds.delete(rowKey);
      await run<ResultSetHeader>(
        'INSERT INTO rate_limits (`key`, points, expire) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE points = ?, expire = ?',
        [rowKey, spec.points + 1, expire, spec.points + 1, expire],
      );
    },

    async reset(rowKey) {
      refusalEnds.delete(rowKey);
      await run<ResultSetHeader>('DELETE FROM rate_limits WHERE `key` = ?', [rowKey]);
    },

    async resetAndReward(resetRowKey, reward) {
      // The reset counter is ended rather than deleted (points 0, expired at 0, before any clock
      // of any instance): every operation
      // reads an expired row as absent (a hit starts a fresh window, a peek sees nothing, a block
      // overwrites it) and the sweep deletes it. The reward, as above, gives back points of a
      // live window only, never below zero.
      refusalEnds.delete(resetRowKey);
      await run<ResultSetHeader>(
        `UPDATE rate_limits SET
            points = IF(\`key\` = ?, 0, GREATEST(points - ?, 0)),
            expire = IF(\`key\` = ?, 0, expire)
          WHERE \`key\` = ? OR (\`key\` = ? AND (expire > ? OR expire IS NULL))`,
        [resetRowKey, reward.points, resetRowKey, resetRowKey, reward.rowKey, now()],
      );
    },

    async sweep(olderThan) {
      await run<ResultSetHeader>('DELETE FROM rate_limits WHERE expire < ?', [olderThan]);
    },
  };
}
