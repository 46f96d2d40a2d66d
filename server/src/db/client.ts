import { setTimeout as sleep } from 'node:timers/promises';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import * as tables from './tables';

export type Database = MySql2Database<typeof tables>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Anything a query can run on: the pool or an open transaction. */
export type Executor = Database | Transaction;

export interface DatabasePools {
  /** Reads and writes of the sign-in paths. */
  db: Database;
  /**
   * A small separate pool for rate limiting, revocation polling and background work, so a
   * flood of those cannot starve sign-ins of connections (docs/architecture.md, data).
   */
  auxDb: Database;
  pool: mysql.Pool;
  auxPool: mysql.Pool;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createDatabasePools(opts: { url: string; connectionLimit?: number; auxConnectionLimit?: number }): DatabasePools {
  const common = {
    uri: opts.url,
    // Every instant is stored and read as UTC.
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    enableKeepAlive: true,
    waitForConnections: true,
    connectTimeout: 10_000,
    // Never let a parameter become SQL: objects are not expanded in placeholders.
    namedPlaceholders: false,
  } satisfies mysql.PoolOptions;
  const pool = mysql.createPool({ ...common, connectionLimit: opts.connectionLimit ?? 16, maxIdle: 4 });
  const auxPool = mysql.createPool({ ...common, connectionLimit: opts.auxConnectionLimit ?? 4, maxIdle: 2 });
  return {
    db: drizzle(pool, { schema: tables, mode: 'default' }),
    auxDb: drizzle(auxPool, { schema: tables, mode: 'default' }),
    pool,
    auxPool,
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.allSettled([pool.end(), auxPool.end()]);
    },
  };
}

/** mysql2 reports duplicate keys with errno 1062 (ER_DUP_ENTRY). */
export function isDuplicateKeyError(error: unknown): boolean {
  return hasErrno(error, 1062);
}

/**
 * A conflict between transactions that outlived its retries (deadlock 1213, lock wait timeout
 * 1205): transient, so the caller is told to try again (503), never a 500.
 */
export function isTransientConflictError(error: unknown): boolean {
  return hasErrno(error, 1213) || hasErrno(error, 1205);
}

function hasErrno(error: unknown, errno: number): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && 'errno' in current && (current as { errno: unknown }).errno === errno) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Every transaction of the service runs through here: it is run again, whole, when the
 * database gives it up as a conflict between transactions: a deadlock victim (1213; also how a
 * multi-primary cluster such as Galera reports a certification failure at commit) or a lock
 * wait timeout (1205), as the MySQL manual asks ("How to Minimize and Handle Deadlocks": be
 * ready to re-issue a transaction). The failed attempt was rolled back, so `work` must keep all
 * its effects in the database (no mail sent, no memory changed that a second run would repeat);
 * the new attempt re-reads and re-locks, and sees what the winner committed. A short, jittered
 * pause between attempts keeps two victims from meeting again in lockstep. A conflict that
 * outlives the attempts answers 503 (`isTransientConflictError`), never a 500.
 */
export async function runTransaction<T>(db: Database, work: (tx: Transaction) => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      if (attempt >= attempts || !isTransientConflictError(error)) throw error;
      await sleep(attempt * 5 + Math.floor(Math.random() * 10));
    }
  }
}

/** Errors that mean the database cannot be reached right now (not a bug in the query). */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'POOL_CLOSED',
]);

export function isDatabaseUnavailableError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = typeof current === 'object' ? (current as { code?: unknown }).code : undefined;
    if (typeof code === 'string' && unavailableCodes.has(code)) return true;
    // mysql2 gives a closed pool no code, only this message.
    if (current instanceof Error && current.message === 'Pool is closed.') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
