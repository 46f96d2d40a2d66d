import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type EmbeddedDatabase, type EmbeddedDatabaseLogger, startEmbeddedDatabase } from '@iam/server/standalone';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const silentLogger: EmbeddedDatabaseLogger = { debug() {}, info() {}, warn() {}, error() {} };
const STARTUP_TIMEOUT_IN_MS = 60_000;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'iam-embedded-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function timedStart(dataDir: string): Promise<{ database: EmbeddedDatabase; elapsedInMs: number }> {
  const startedAt = performance.now();
  const database = await startEmbeddedDatabase({ dataDir, logger: silentLogger });
  return { database, elapsedInMs: performance.now() - startedAt };
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

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => resolve(server));
  });
}

describe('startEmbeddedDatabase', () => {
  test(
    'a later start reuses the data dir and credentials, and is faster than the first',
    async () => {
      const dataDir = path.join(root, 'reuse', 'mysql');
      const first = await timedStart(dataDir);
      await query(first.database.url, 'CREATE TABLE kept (id INT PRIMARY KEY)');
      await first.database.stop();

      const second = await timedStart(dataDir);
      try {
        expect(second.database.url).toBe(first.database.url);
        expect(second.database.adminUrl).toBe(first.database.adminUrl);
        expect(await query(second.database.url, "SHOW TABLES LIKE 'kept'")).toHaveLength(1);
        expect(second.elapsedInMs).toBeLessThan(first.elapsedInMs);
      } finally {
        await second.database.stop();
      }
    },
    STARTUP_TIMEOUT_IN_MS,
  );

  test(
    'keeps the credentials in an owner-only file and the data dir private',
    async () => {
      const dataDir = path.join(root, 'private', 'mysql');
      const { database } = await timedStart(dataDir);
      await database.stop();

      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(dataDir, 'iam-db.json'))).mode & 0o777).toBe(0o600);
      const state = JSON.parse(await readFile(path.join(dataDir, 'iam-db.json'), 'utf8'));
      expect(database.url).toContain(`:${state.password}@`);
    },
    STARTUP_TIMEOUT_IN_MS,
  );

  test(
    'moves to a new port when the persisted one is taken',
    async () => {
      const dataDir = path.join(root, 'port', 'mysql');
      const { database: first } = await timedStart(dataDir);
      await first.stop();
      const squatter = await occupy(portOf(first.url));
      try {
        const { database: second } = await timedStart(dataDir);
        await second.stop();
        expect(portOf(second.url)).not.toBe(portOf(first.url));
        const state = JSON.parse(await readFile(path.join(dataDir, 'iam-db.json'), 'utf8'));
        expect(state.port).toBe(portOf(second.url));
      } finally {
        squatter.close();
      }
    },
    STARTUP_TIMEOUT_IN_MS,
  );

  test(
    'shuts down a server left running on the data dir and starts its own',
    async () => {
      const dataDir = path.join(root, 'leftover', 'mysql');
      const { database: leftover } = await timedStart(dataDir);
      const { database: replacement } = await timedStart(dataDir);
      try {
        expect(await query(replacement.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
        // The leftover's process is gone, so its stop() has nothing left to do.
        await leftover.stop();
        expect(await query(replacement.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      } finally {
        await replacement.stop();
      }
    },
    STARTUP_TIMEOUT_IN_MS,
  );

  test('refuses a non-empty directory it did not create', async () => {
    const dataDir = path.join(root, 'foreign', 'mysql');
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'ibdata1'), '');

    await expect(startEmbeddedDatabase({ dataDir, logger: silentLogger })).rejects.toThrow(/not empty/);
  });
});
