import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import { isTransientConflictError } from './client';

/**
 * The migrations drizzle-kit generated: `drizzle/` at the repository root when running from
 * source, `dist/drizzle/` inside the built and published package. Found by walking up from this
 * module (which the build bundles into files at other depths) to the first folder that holds
 * the journal.
 */
export const migrationsFolder = findMigrationsFolder(path.dirname(fileURLToPath(import.meta.url)));

function findMigrationsFolder(start: string): string {
  let directory = start;
  for (let level = 0; level < 5; level++) {
    const candidate = path.join(directory, 'drizzle');
    if (existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
    directory = path.dirname(directory);
  }
  throw new Error(`no migrations (drizzle/meta/_journal.json) above ${start}`);
}

/** How long a migrator's claim lasts without renewal: a crashed migrator holds the others up for at most this long. */
export const MIGRATION_LEASE_IN_SECONDS = 60;
const RENEW_EVERY_IN_MS = 15_000;
const WAIT_AT_MOST_IN_MS = 120_000;
const RETRY_EVERY_IN_MS = 250;

/**
 * Applies pending migrations, one migrator at a time across every instance. The claim is a row
 * (`iam_migration_lock`, created here before any migration runs) leased for a minute and renewed
 * while migrating, not `GET_LOCK`: a named lock lives in one server's memory, so on a
 * multi-primary cluster (Galera) two instances on two nodes would both hold it and apply the
 * same migration twice. A row write is replicated, and two claims made at once on two nodes
 * conflict at commit, so exactly one wins (docs/architecture.md, scale-out).
 */
export async function applyMigrations(url: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url, timezone: 'Z', multipleStatements: false });
  try {
    const claim = await claimMigrationLock(url, randomUUID());
    try {
      await migrate(drizzle(connection), { migrationsFolder });
    } finally {
      await claim.release();
    }
  } finally {
    await connection.end();
  }
}

async function claimMigrationLock(url: string, holder: string): Promise<{ release(): Promise<void> }> {
  // A connection of its own: renewals go out while a long statement runs on the migrating one.
  const connection = await mysql.createConnection({ uri: url, timezone: 'Z', multipleStatements: false });
  try {
    await connection.query(
      `CREATE TABLE IF NOT EXISTS iam_migration_lock (
        id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
        holder CHAR(36) NOT NULL,
        expires_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB`,
    );
    const deadline = Date.now() + WAIT_AT_MOST_IN_MS;
    while (!(await tryClaim(connection, holder))) {
      if (Date.now() > deadline) throw new Error('Timed out waiting for another instance to finish migrating.');
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_IN_MS));
    }
  } catch (error) {
    await connection.end();
    throw error;
  }
  const renewal = setInterval(() => {
    connection
      .query(
        `UPDATE iam_migration_lock SET expires_at = NOW(3) + INTERVAL ${MIGRATION_LEASE_IN_SECONDS} SECOND WHERE id = 1 AND holder = ?`,
        [holder],
      )
      .catch(() => {
        // A missed renewal only shortens the lease; the next one (or the release) tries again.
      });
  }, RENEW_EVERY_IN_MS);
  renewal.unref();
  return {
    async release() {
      clearInterval(renewal);
      try {
        await connection.query('DELETE FROM iam_migration_lock WHERE id = 1 AND holder = ?', [holder]);
      } finally {
        await connection.end();
      }
    },
  };
}

/**
 * One attempt: the row is ours when it is missing, expired or already ours. In the update,
 * `holder` is assigned before `expires_at` reads it, so the lease is extended only for the
 * claimant that now holds it. A commit that loses certification on a cluster is a failed attempt.
 */
async function tryClaim(connection: mysql.Connection, holder: string): Promise<boolean> {
  try {
    await connection.query(
      `INSERT INTO iam_migration_lock (id, holder, expires_at) VALUES (1, ?, NOW(3) + INTERVAL ${MIGRATION_LEASE_IN_SECONDS} SECOND)
       ON DUPLICATE KEY UPDATE
         holder = IF(expires_at < NOW(3), VALUES(holder), holder),
         expires_at = IF(holder = VALUES(holder), VALUES(expires_at), expires_at)`,
      [holder],
    );
  } catch (error) {
    if (isTransientConflictError(error)) return false;
    throw error;
  }
  const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT holder FROM iam_migration_lock WHERE id = 1');
  return rows[0]?.holder === holder;
}
