import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';

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

/**
 * Applies pending migrations. A named lock serialises instances that start together, so
 * two of them never apply the same migration twice.
 */
export async function applyMigrations(url: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url, timezone: 'Z', multipleStatements: false });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT GET_LOCK('iam_migrations', 120) AS locked");
    if (rows[0]?.locked !== 1) throw new Error('Timed out waiting for another instance to finish migrating.');
    try {
      await migrate(drizzle(connection), { migrationsFolder });
    } finally {
      await connection.query("SELECT RELEASE_LOCK('iam_migrations')");
    }
  } finally {
    await connection.end();
  }
}
