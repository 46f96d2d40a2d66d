import mysql from 'mysql2/promise';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database';

const adminUrl = inject('iamDatabaseAdminUrl');
const created: TestDatabase[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((database) => database.drop()));
});

async function newDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase(adminUrl);
  created.push(database);
  return database;
}

async function query<Row>(url: string, sql: string): Promise<Row[]> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await connection.query(sql);
    return rows as Row[];
  } finally {
    await connection.end();
  }
}

async function tableNames(url: string): Promise<string[]> {
  const rows = await query<Record<string, string>>(url, 'SHOW TABLES');
  return rows.flatMap((row) => Object.values(row));
}

describe('test databases', () => {
  test('are isolated: a table created in one does not exist in another', async () => {
    const [first, second] = await Promise.all([newDatabase(), newDatabase()]);
    expect(first.name).not.toBe(second.name);

    await query(first.url, 'CREATE TABLE only_in_first (id INT PRIMARY KEY)');

    expect(await tableNames(first.url)).toEqual(['only_in_first']);
    expect(await tableNames(second.url)).toEqual([]);
  });

  test('are gone after drop()', async () => {
    const database = await createTestDatabase(adminUrl);
    await database.drop();

    const rows = await query(adminUrl, `SHOW DATABASES LIKE '${database.name}'`);
    expect(rows).toEqual([]);
  });

  test('default to utf8mb4 with the binary collation', async () => {
    const database = await newDatabase();

    const [row] = await query<Record<string, string>>(
      database.url,
      'SELECT @@character_set_server AS charset, @@collation_server AS collation, @@collation_database AS db',
    );
    expect(row).toEqual({ charset: 'utf8mb4', collation: 'utf8mb4_bin', db: 'utf8mb4_bin' });
  });

  test("keep 'jose' and 'josé' apart under the database's default collation", async () => {
    const database = await newDatabase();
    // A column takes the database default; a literal alone would take the connection's collation.
    await query(database.url, 'CREATE TABLE names (name VARCHAR(16) NOT NULL)');
    await query(database.url, "INSERT INTO names VALUES ('jose')");

    const matches = await query(database.url, "SELECT name FROM names WHERE name = 'josé'");
    const [compared] = await query<{ equal: number }>(database.url, "SELECT 'jose' = 'josé' COLLATE utf8mb4_bin AS equal");
    expect(matches).toEqual([]);
    expect(compared?.equal).toBe(0);
  });
});
