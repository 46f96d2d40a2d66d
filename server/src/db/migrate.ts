import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../drizzle');

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
