import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../harness/database';

// glibc reads its malloc variables once, before the process runs any code, so `pnpm start` puts
// them into the server's environment (docs/operations.md, Memory). An operator's own value wins.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The server's pid under pnpm: the process whose command line runs the compiled service. */
async function serverPidUnder(pnpmPid: number): Promise<number | undefined> {
  const queue = [pnpmPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes('server/dist/bin/main.js')) return pid;
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    queue.push(...children.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return undefined;
}

describe('pnpm start, memory settings', () => {
  it("starts the server with glibc's malloc variables set, keeping an operator's own value", async () => {
    const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-start-memory-'));
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      IAM_SECRET: randomBytes(32).toString('base64url'),
      PORT: '0',
      HIBP_API_URL: 'off',
      MAIL_TRANSPORT: 'outbox',
      DATABASE_URL: database.url,
      IAM_DATA_DIR: dataDir,
      MALLOC_ARENA_MAX: '4',
    };
    for (const name of ['PATH', 'HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'PNPM_HOME', 'CI']) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    const pnpm = spawn('pnpm', ['start'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    pnpm.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    pnpm.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => pnpm.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('IAM service listening') && Date.now() < deadline && pnpm.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toContain('IAM service listening');
      const pid = await serverPidUnder(pnpm.pid as number);
      expect(pid, output).toBeDefined();
      const environment = new Map(
        (await readFile(`/proc/${pid}/environ`, 'utf8'))
          .split('\0')
          .filter(Boolean)
          .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      );
      expect(environment.get('MALLOC_ARENA_MAX')).toBe('4');
      expect(environment.get('MALLOC_MMAP_THRESHOLD_')).toBe('131072');
      expect(environment.get('MALLOC_TRIM_THRESHOLD_')).toBe('131072');

      process.kill(pnpm.pid as number, 'SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      try {
        process.kill(-(pnpm.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
      await rm(dataDir, { recursive: true, force: true });
      await database.drop();
    }
  }, 120_000);
});
