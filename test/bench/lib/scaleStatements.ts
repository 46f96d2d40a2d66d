// What a statement costs on a Galera node against a single server: the two shapes the
// service's hot paths are made of, through mysql2 with the service's connection options, on a
// scratch table of their own (`bench_scale.counters`), each worker on its own connection.
//   odku: one autocommit `INSERT … ON DUPLICATE KEY UPDATE` (a rate-limit hit's shape)
//   txn:  BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT (a rotation's shape, one row)
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { type LoopResult, timedLoop } from './loop';

export type StatementKind = 'odku' | 'txn';

export interface StatementResult extends LoopResult {
  /** Statements (odku) or transactions (txn) sent again after a deadlock or certification failure. */
  retries: number;
}

const database = 'bench_scale';
/** As the service's limiter store retries a statement (server/src/modules/rateLimit/mysqlStore.ts): 5 attempts, a short backoff. */
const attempts = 5;

/** Creates the scratch database and table on a server (on Galera, once: it replicates). */
export async function prepareStatementTable(adminUrl: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: adminUrl });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await connection.query(
      `CREATE TABLE IF NOT EXISTS \`${database}\`.counters (id VARCHAR(64) NOT NULL PRIMARY KEY, n BIGINT NOT NULL, updated_at DATETIME(3) NOT NULL) ENGINE=InnoDB`,
    );
  } finally {
    await connection.end();
  }
}

/** The scratch database on the server of `adminUrl`. */
function databaseUrl(adminUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.href;
}

/** A deadlock victim or certification failure (1213), or a lock wait timeout (1205). */
const isConflict = (error: unknown) => [1213, 1205].includes((error as { errno?: number }).errno ?? 0);

/**
 * Runs `kind` from `concurrency` workers for `seconds`, worker `i` connected to
 * `adminUrls[i % adminUrls.length]` (one server, or the nodes of a cluster in turn). Each
 * worker updates its own row unless `sharedKey` puts them all on one (a hot counter, as every
 * instance's hits on one limiter key are). A conflict is retried as the service retries one,
 * and counted; one still failing after the last attempt counts as failed.
 */
export async function statementLoop(opts: {
  kind: StatementKind;
  adminUrls: string[];
  concurrency: number;
  seconds: number;
  /** A prefix for the rows: targets do not share rows unless they mean to. */
  rowPrefix: string;
  sharedKey?: boolean;
}): Promise<StatementResult> {
  const connections = await Promise.all(
    Array.from({ length: opts.concurrency }, (_, i) =>
      mysql.createConnection({
        uri: databaseUrl(opts.adminUrls[i % opts.adminUrls.length] as string),
        timezone: 'Z',
        charset: 'utf8mb4_bin',
      }),
    ),
  );
  const keyOf = (worker: number) => (opts.sharedKey ? `${opts.rowPrefix}-shared` : `${opts.rowPrefix}-${worker}`);
  let retries = 0;
  try {
    // The rows exist before the window: the transaction updates, it never inserts.
    for (const [worker, connection] of connections.entries()) {
      await connection.query('INSERT IGNORE INTO counters (id, n, updated_at) VALUES (?, 0, UTC_TIMESTAMP(3))', [keyOf(worker)]);
    }
    const once = async (connection: mysql.Connection, key: string) => {
      if (opts.kind === 'odku') {
        await connection.query(
          'INSERT INTO counters (id, n, updated_at) VALUES (?, 1, UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE n = n + 1, updated_at = UTC_TIMESTAMP(3)',
          [key],
        );
        return;
      }
      await connection.query('BEGIN');
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT n FROM counters WHERE id = ? FOR UPDATE', [key]);
        if (rows.length !== 1) throw new Error(`no row ${key}`);
        await connection.query('UPDATE counters SET n = n + 1, updated_at = UTC_TIMESTAMP(3) WHERE id = ?', [key]);
        await connection.query('COMMIT');
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    };
    const result = await timedLoop({ concurrency: opts.concurrency, durationInMs: opts.seconds * 1000 }, async (worker) => {
      const connection = connections[worker];
      if (!connection) throw new Error(`no connection ${worker}`);
      for (let attempt = 1; ; attempt++) {
        try {
          await once(connection, keyOf(worker));
          return;
        } catch (error) {
          if (!isConflict(error) || attempt >= attempts) throw error;
          retries++;
          await sleep(attempt * 5 + Math.floor(Math.random() * 10));
        }
      }
    });
    return { ...result, retries };
  } finally {
    await Promise.all(connections.map((connection) => connection.end().catch(() => undefined)));
  }
}

/** Galera's own conflict counters on one node, summed by the caller over the nodes. */
export async function wsrepConflicts(adminUrl: string): Promise<{ certFailures: number; bfAborts: number }> {
  const connection = await mysql.createConnection({ uri: adminUrl });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_cert_failures', 'wsrep_local_bf_aborts')",
    );
    const status = Object.fromEntries(rows.map((row) => [String(row.Variable_name), Number(row.Value)]));
    return { certFailures: status.wsrep_local_cert_failures ?? 0, bfAborts: status.wsrep_local_bf_aborts ?? 0 };
  } finally {
    await connection.end();
  }
}
