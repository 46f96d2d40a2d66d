import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, migrationsFolder } from './migrate';

let admin: mysql.Connection;
const created: string[] = [];

async function freshDatabase(): Promise<{ name: string; url: string }> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  created.push(name);
  const url = new URL(inject('iamDatabaseAdminUrl'));
  url.pathname = `/${name}`;
  return { name, url: url.href };
}

async function journalLength(): Promise<number> {
  const journal = JSON.parse(await readFile(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: inject('iamDatabaseAdminUrl') });
});

afterAll(async () => {
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.end();
});

describe('applyMigrations', () => {
  it('run by several instances at once, applies each migration exactly once and leaves no claim behind', async () => {
    const { name, url } = await freshDatabase();
    await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    const [applied] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${name}\`.__drizzle_migrations`);
    expect(Number(applied[0]?.n)).toBe(await journalLength());
    const [claims] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${name}\`.iam_migration_lock`);
    expect(Number(claims[0]?.n)).toBe(0);
  });

  it('takes over the claim of a migrator that died (its lease expired), and waits on a live one', async () => {
    const { name, url } = await freshDatabase();
    await admin.query(
      `CREATE TABLE \`${name}\`.iam_migration_lock (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, holder CHAR(36) NOT NULL, expires_at DATETIME(3) NOT NULL)`,
    );
    // A live claim: the migrator waits, and proceeds once it is released.
    await admin.query(
      `INSERT INTO \`${name}\`.iam_migration_lock VALUES (1, '00000000-0000-4000-8000-000000000001', NOW(3) + INTERVAL 60 SECOND)`,
    );
    let finished = false;
    const migrating = applyMigrations(url).then(() => {
      finished = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(finished).toBe(false);
    const [before] = await admin.query<RowDataPacket[]>(`SHOW TABLES FROM \`${name}\` LIKE 'users'`);
    expect(before).toHaveLength(0);
    // The holder crashes: its lease is now in the past.
    await admin.query(`UPDATE \`${name}\`.iam_migration_lock SET expires_at = NOW(3) - INTERVAL 1 SECOND`);
    await migrating;
    const [after] = await admin.query<RowDataPacket[]>(`SHOW TABLES FROM \`${name}\` LIKE 'users'`);
    expect(after).toHaveLength(1);
    const [claims] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${name}\`.iam_migration_lock`);
    expect(Number(claims[0]?.n)).toBe(0);
  });
});
