import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../harness/database';
import { createTestServer } from '../harness/server';

// `drizzle-kit migrate` from the repository root, with DATABASE_URL set, as an operator may run
// it instead of `pnpm db:migrate`: it must apply the migrations (custom SQL included) and record
// them where the service's own runner looks, so the service's next start applies nothing again.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

describe('drizzle-kit with DATABASE_URL', () => {
  it('migrates a fresh database compatibly with the service: a service then starts on it and signs a user up', async () => {
    const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    const migrations = (await readdir(`${repoRoot}/drizzle`)).filter((name) => name.endsWith('.sql'));
    let owned = true;
    try {
      await run('pnpm', ['exec', 'drizzle-kit', 'migrate'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: database.url },
        timeout: 60_000,
      });
      const connection = await mysql.createConnection({ uri: database.url });
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS applied FROM __drizzle_migrations');
        expect(Number(rows[0]?.applied)).toBe(migrations.length);
      } finally {
        await connection.end();
      }

      // The service migrates at start (the default): with everything recorded, it applies nothing.
      owned = false;
      await using t = await createTestServer({ database });
      const user = await t.signUp();
      expect(user.accessToken).toBeTruthy();
      const [rows] = await t.sql.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS applied FROM __drizzle_migrations');
      expect(Number(rows[0]?.applied)).toBe(migrations.length);
    } finally {
      if (owned) await database.drop();
    }
  }, 90_000);

  it('generate still works without DATABASE_URL', async () => {
    // The repository's config, writing into a copy of the migrations: a schema change in
    // progress in the working tree must not gain a migration file from a test run.
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'iam-drizzle-kit-'));
    try {
      await cp(path.join(repoRoot, 'drizzle'), path.join(scratch, 'drizzle'), { recursive: true });
      const config = path.join(scratch, 'drizzle.config.ts');
      await writeFile(
        config,
        `import config from ${JSON.stringify(path.join(repoRoot, 'drizzle.config.ts'))};\n` +
          // drizzle-kit takes `out` relative to the working directory.
          `export default { ...config, out: ${JSON.stringify(path.relative(repoRoot, path.join(scratch, 'drizzle')))} };\n`,
      );
      const { stdout, stderr } = await run('pnpm', ['exec', 'drizzle-kit', 'generate', '--config', config], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        timeout: 60_000,
      });
      // drizzle-kit exits 0 on errors too: its report says how it went.
      expect(stdout + stderr).toMatch(/No schema changes|Your SQL migration file/i);
      expect(stderr).not.toMatch(/error/i);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 90_000);
});
