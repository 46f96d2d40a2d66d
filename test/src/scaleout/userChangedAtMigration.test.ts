import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMigrations } from '@iam/server';
import { drizzle } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import { describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../harness/database';
import { createTestServer } from '../harness/server';

// Migration 0031 adds `users.changed_at`, the user cache's feed, to a database that already
// has accounts: they get a stamp, and the database keeps it from then on.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const tag = '0031_user_changed_at';

describe('migration 0031 (users.changed_at) on an existing database', () => {
  it('stamps the accounts already there, keeps the stamp on every change, and the service runs on it', async () => {
    const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'iam-migrations-'));
    let owned = true;
    const connection = await mysql.createConnection({ uri: database.url, timezone: 'Z' });
    try {
      // The database as the release before this migration left it.
      const folder = path.join(scratch, 'drizzle');
      await cp(path.join(repoRoot, 'drizzle'), folder, { recursive: true });
      const journalFile = path.join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
      const total = journal.entries.length;
      expect(journal.entries.map((entry) => entry.tag)).toContain(tag);
      // This migration and every later one are not there yet.
      const at = journal.entries.findIndex((entry) => entry.tag === tag);
      const later = journal.entries.slice(at);
      journal.entries = journal.entries.slice(0, at);
      await writeFile(journalFile, JSON.stringify(journal));
      for (const entry of later) await rm(path.join(folder, `${entry.tag}.sql`));
      await migrate(drizzle(connection), { migrationsFolder: folder });
      await connection.query(
        `INSERT INTO users (id, email, email_normalized, roles, created_at, updated_at)
         VALUES ('usr_existing', 'existing@example.com', 'existing@example.com', '["user"]', '2024-01-01', '2024-01-01')`,
      );

      await applyMigrations(database.url);
      const [applied] = await connection.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
      expect(Number(applied[0]?.n)).toBe(total);
      const [[table]] = (await connection.query('SHOW CREATE TABLE users')) as unknown as [Array<Record<string, string>>];
      expect(table?.['Create Table']).toMatch(
        /`changed_at` timestamp\(3\) NOT NULL DEFAULT current_timestamp\(3\) ON UPDATE current_timestamp\(3\)/i,
      );
      const [indexes] = await connection.query<mysql.RowDataPacket[]>("SHOW INDEX FROM users WHERE Key_name = 'users_changed_at_idx'");
      expect(indexes.map((row) => row.Column_name)).toEqual(['changed_at']);

      // The existing account got the migration's time; a change moves it on, with milliseconds.
      const stampOf = async () => {
        const [rows] = await connection.query<mysql.RowDataPacket[]>(
          "SELECT changed_at, updated_at, NOW(3) - INTERVAL 1 MINUTE < changed_at AS recent FROM users WHERE id = 'usr_existing'",
        );
        return rows[0] as { changed_at: Date; updated_at: Date; recent: number };
      };
      const first = await stampOf();
      expect(first.recent).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await connection.query("UPDATE users SET name = 'Existing' WHERE id = 'usr_existing'");
      const second = await stampOf();
      expect(second.changed_at.getTime()).toBeGreaterThan(first.changed_at.getTime());
      expect(second.updated_at).toEqual(new Date('2024-01-01T00:00:00Z'));
      // An UPDATE that changes nothing leaves it as it was.
      await connection.query("UPDATE users SET name = 'Existing' WHERE id = 'usr_existing'");
      expect((await stampOf()).changed_at).toEqual(second.changed_at);

      // The service starts on it, applies nothing more, and serves a new account.
      owned = false;
      await using t = await createTestServer({ database });
      const user = await t.signUp({ name: 'New' });
      await expect(user.api.auth.me.query()).resolves.toMatchObject({ id: user.userId, name: 'New' });
      const [after] = await t.sql.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
      expect(Number(after[0]?.n)).toBe(total);
    } finally {
      await connection.end();
      await rm(scratch, { recursive: true, force: true });
      if (owned) await database.drop();
    }
  }, 90_000);
});
