import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function mariadbdFor(dataDir: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `mariadbd.*${dataDir}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the service did not become ready');
}

describe('the standalone service (pnpm start)', () => {
  it('on SIGTERM finishes the request in flight, then stops its embedded database and exits 0', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-standalone-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/standalone/main.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        // Production refuses the embedded database.
        NODE_ENV: 'development',
        IAM_SECRET: randomBytes(32).toString('base64url'),
        IAM_DATA_DIR: dataDir,
        PORT: String(port),
        HIBP_API_URL: 'off',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntilReady(url, child);
      expect(mariadbdFor(dataDir)).not.toHaveLength(0);

      // A login spends an argon2 hash (tens of milliseconds): SIGTERM arrives while it runs.
      const inFlight = fetch(`${url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ json: { email: 'nobody@example.com', password: 'some password or other' } }),
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      child.kill('SIGTERM');
      const response = await inFlight;
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { json: { data: { iamCode: string } } } }).error.json.data.iamCode).toBe(
        'INVALID_CREDENTIALS',
      );

      expect(await exited).toBe(0);
      expect(output).toContain('draining');
      expect(output).toContain('embedded database stopped');
      expect(mariadbdFor(dataDir)).toHaveLength(0);
      // Nothing listens any more.
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
