import { setTimeout as sleep } from 'node:timers/promises';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import { type Pool as CorePool, type PoolConnection as CorePoolConnection, createPool } from 'mysql2';
import type mysql from 'mysql2/promise';
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
   * flood of those cannot starve sign-ins of connections (docs/architecture.md, two pools).
   */
  auxDb: Database;
  /** Both pools, and their callback forms (`.pool`), time their queries out as `db` and `auxDb` do. */
  pool: mysql.Pool;
  auxPool: mysql.Pool;
  /** Whether the database answers a `SELECT 1` within the readiness timeout. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Each query, the wait for a pooled connection and the opening of a new one (docs/operations.md, timeouts and deadlines). */
export const defaultQueryTimeoutInMs = 5_000;
/** How long `ping`, the check of `/readyz`, waits for the database. */
export const defaultPingTimeoutInMs = 1_500;

export function createDatabasePools(opts: {
  url: string;
  connectionLimit?: number;
  auxConnectionLimit?: number;
  /** Each query, the wait for a pooled connection and the opening of a new one (default 5 s). */
  queryTimeoutInMs?: number;
  /** How long `ping` waits for its answer (default 1.5 s). */
  pingTimeoutInMs?: number;
}): DatabasePools {
  const queryTimeoutInMs = opts.queryTimeoutInMs ?? defaultQueryTimeoutInMs;
  const pingTimeoutInMs = opts.pingTimeoutInMs ?? defaultPingTimeoutInMs;
  const common = {
    uri: opts.url,
    // Every instant is stored and read as UTC.
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    enableKeepAlive: true,
    waitForConnections: true,
    connectTimeout: queryTimeoutInMs,
    // Never let a parameter become SQL: objects are not expanded in placeholders.
    namedPlaceholders: false,
  } satisfies mysql.PoolOptions;
  const pool = withQueryTimeout(
    createPool({ ...common, connectionLimit: opts.connectionLimit ?? 16, maxIdle: 4 }),
    queryTimeoutInMs,
  ).promise();
  const auxPool = withQueryTimeout(
    createPool({ ...common, connectionLimit: opts.auxConnectionLimit ?? 4, maxIdle: 2 }),
    queryTimeoutInMs,
  ).promise();
  return {
    db: drizzle(pool, { schema: tables, mode: 'default' }),
    auxDb: drizzle(auxPool, { schema: tables, mode: 'default' }),
    pool,
    auxPool,
    ping() {
      return new Promise((resolve) => {
        // The wait for a connection counts too: a pool whose connections all hang answers false in time.
        const timer = setTimeout(() => resolve(false), pingTimeoutInMs);
        void pool
          // A table, not `SELECT 1`: a cluster node that may not serve (a Galera node outside
          // the primary component, or rejecting queries for maintenance) still answers a bare
          // SELECT 1, and refuses every table with 1047.
          .query({ sql: 'SELECT 1 FROM service_locks LIMIT 1', timeout: pingTimeoutInMs })
          .then(
            () => true,
            () => false,
          )
          .then((answered) => {
            clearTimeout(timer);
            resolve(answered);
          });
      });
    },
    async close() {
      await Promise.allSettled([pool.end(), auxPool.end()]);
    },
  };
}

/** mysql2's error for a query that got no answer within its `timeout`. */
const queryTimeoutCode = 'PROTOCOL_SEQUENCE_TIMEOUT';
/** Ours, for a pool that handed out no connection within the query timeout. */
const acquireTimeoutCode = 'DB_ACQUIRE_TIMEOUT';

type DriverError = Error & { code?: unknown; fatal?: unknown };
type ResultCallback = (error: DriverError | null, rows?: unknown, fields?: unknown) => void;
type ConnectionCallback = (error: DriverError | null, connection?: CorePoolConnection) => void;
type QueryMethod = (sql: unknown, values: unknown, callback?: ResultCallback) => unknown;

/**
 * The pool with a timeout on everything that waits on the database, for every caller: Drizzle
 * (its mysql2 session runs `query` and `execute` on the pool, and on a connection from
 * `getConnection` in a transaction), the promise wrapper (`.promise()`) and the rate limiter
 * (callbacks on `getConnection`'s connections).
 *
 * - Each query and execute without a `timeout` of its own gets `timeoutInMs`. mysql2 then fails
 *   it with PROTOCOL_SEQUENCE_TIMEOUT but leaves the connection waiting for an answer that may
 *   never come, so that connection is destroyed: it leaves the pool, the server rolls back
 *   what it had open, and the pool opens a new one when needed. Its later commands (a
 *   transaction's ROLLBACK) fail with the same error at once.
 * - `getConnection` fails with DB_ACQUIRE_TIMEOUT when no connection comes within
 *   `timeoutInMs`; one that comes later goes back to the pool.
 * - `query` and `execute` on the pool run on a connection from that `getConnection`, callback
 *   form only (mysql2's own leave a timed-out connection taken for good).
 */
function withQueryTimeout(pool: CorePool, timeoutInMs: number): CorePool {
  const getConnection = (callback: ConnectionCallback) => {
    let waiting = true;
    const timer = setTimeout(() => {
      waiting = false;
      callback(Object.assign(new Error(`No database connection within ${timeoutInMs} ms.`), { code: acquireTimeoutCode }));
    }, timeoutInMs);
    pool.getConnection((error, connection) => {
      if (!waiting) {
        if (!error) connection.release();
        return;
      }
      waiting = false;
      clearTimeout(timer);
      if (error) callback(error);
      else callback(null, withConnectionQueryTimeout(connection, timeoutInMs));
    });
  };
  const onPooledConnection =
    (method: 'query' | 'execute'): QueryMethod =>
    (sql, values, callback) => {
      const done = (typeof values === 'function' ? values : callback) as ResultCallback | undefined;
      if (typeof done !== 'function') throw new TypeError(`pool.${method} takes a callback here; use getConnection for streams.`);
      getConnection((error, connection) => {
        if (error || !connection) {
          done(error);
          return;
        }
        (connection[method] as unknown as QueryMethod)(
          sql,
          typeof values === 'function' ? undefined : values,
          (queryError, rows, fields) => {
            connection.release();
            done(queryError, rows, fields);
          },
        );
      });
      return undefined;
    };
  const overrides: Partial<Record<PropertyKey, unknown>> = {
    getConnection,
    query: onPooledConnection('query'),
    execute: onPooledConnection('execute'),
  };
  const guarded: CorePool = new Proxy(pool, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property];
      // The promise wrapper must call back into the guarded pool.
      if (property === 'promise') return (promiseImpl?: PromiseConstructor) => target.promise.call(guarded, promiseImpl);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return guarded;
}

/** One pooled connection whose `query` and `execute` time out as `withQueryTimeout` says. */
function withConnectionQueryTimeout(connection: CorePoolConnection, timeoutInMs: number): CorePoolConnection {
  let broken: DriverError | undefined;
  const noteFailure = (error: DriverError) => {
    if (error.code === queryTimeoutCode) {
      broken ??= error;
      connection.destroy();
      // `destroy` only half-closes the socket; a peer that never answers would keep it open.
      (connection as unknown as { stream?: { destroy?: () => void } }).stream?.destroy?.();
    } else if (error.fatal === true) {
      // mysql2 has dropped the connection already; later commands fail with this error, not a codeless "closed state".
      broken ??= error;
    }
  };
  const withTimeout = (method: 'query' | 'execute'): QueryMethod => {
    const run = connection[method] as unknown as QueryMethod;
    return (sql, values, callback) => {
      const done = (typeof values === 'function' ? values : callback) as ResultCallback | undefined;
      const params = typeof values === 'function' ? undefined : values;
      const options =
        typeof sql === 'string'
          ? { sql, timeout: timeoutInMs }
          : { ...(sql as object), timeout: (sql as { timeout?: number }).timeout ?? timeoutInMs };
      if (typeof done !== 'function') {
        // An event-emitter query (a stream): its errors come as events.
        const command = run.call(connection, options, params) as { once(event: 'error', listener: (error: DriverError) => void): void };
        command.once('error', noteFailure);
        return command;
      }
      if (broken) {
        const error = broken;
        process.nextTick(() => done(error));
        return undefined;
      }
      return run.call(connection, options, params, (error, rows, fields) => {
        if (error) noteFailure(error);
        done(error, rows, fields);
      });
    };
  };
  const overrides: Partial<Record<PropertyKey, unknown>> = { query: withTimeout('query'), execute: withTimeout('execute') };
  return new Proxy(connection, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property];
      // Bound to the connection itself, so the pool only ever sees (and compares) the real one.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
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
  // 1047: a Galera node that may not serve queries now (outside the primary component, still
  // joining, or `wsrep_reject_queries` set); another node can.
  'ER_UNKNOWN_COM_ERROR',
  // A query, or the wait for a connection, that outlived the query timeout (docs/operations.md, timeouts and deadlines).
  queryTimeoutCode,
  acquireTimeoutCode,
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
