import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../harness/database';

// What a process manager does: it signals the process it started, `pnpm start`, and nothing
// else. The service must drain and exit with it, and leave no process behind: not the server,
// not the embedded database.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const STOP_TIMEOUT_IN_MS = 20_000;

interface Started {
  pnpm: ChildProcess;
  url: string;
  /** Every process under pnpm once the service answers, pnpm's own pid first. */
  tree: number[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `pnpm start` in its own process group (so cleanup can reach every process it started). */
async function startService(extraEnv: Record<string, string>): Promise<Started> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    IAM_SECRET: randomBytes(32).toString('base64url'),
    PORT: '0',
    HIBP_API_URL: 'off',
    LOG_LEVEL: 'info',
    // Production refuses to start without a mail provider unless the file outbox is chosen.
    MAIL_TRANSPORT: 'outbox',
    ...extraEnv,
  };
  // pnpm finds its store through these; the rest of the runner's environment stays out.
  for (const name of ['PATH', 'HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'PNPM_HOME', 'CI']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const pnpm = spawn('pnpm', ['start'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  pnpm.stdout?.on('data', collect);
  pnpm.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    pnpm.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const deadline = Date.now() + 90_000;
  let url: string | undefined;
  while (Date.now() < deadline) {
    if (pnpm.exitCode !== null || pnpm.signalCode !== null) throw new Error(`pnpm start exited early:\n${output}`);
    url ??= /IAM service listening on (http:\/\/[^\s]+:\d+)/.exec(output)?.[1];
    if (url && (await answersReady(url))) {
      return { pnpm, url, tree: descendantsOf(pnpm.pid as number), output: () => output, exited };
    }
    await sleep(100);
  }
  stopGroup(pnpm);
  throw new Error(`pnpm start did not become ready:\n${output}`);
}

async function answersReady(url: string): Promise<boolean> {
  return fetch(`${url}/readyz`).then(
    (response) => response.status === 200,
    () => false,
  );
}

async function answersAtAll(url: string): Promise<boolean> {
  return fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  );
}

/** The pid and, recursively, its children, as `ps` lists them now. */
function descendantsOf(pid: number): number[] {
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) {
    tree.push(...childrenOf(tree[index] as number));
  }
  return tree;
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number.parseInt(line.trim(), 10))
      .filter((child) => Number.isSafeInteger(child));
  } catch {
    return []; // ps exits 1 when it lists nothing
  }
}

/** Running processes of the list with their command lines; an exited one not yet reaped counts as gone. */
function stillRunning(pids: number[]): string[] {
  if (pids.length === 0) return [];
  try {
    return execFileSync('ps', ['-o', 'pid=,stat=,args=', '-p', pids.join(',')], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/^\d+\s+Z/.test(line));
  } catch {
    return [];
  }
}

function inGroup(pgid: number): number[] {
  try {
    return execFileSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number.parseInt(line, 10))
      .filter((pid) => Number.isSafeInteger(pid));
  } catch {
    return [];
  }
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

/** Waits until nothing of the tree nor of pnpm's process group runs and the port is closed. */
async function waitUntilGone(started: Started): Promise<{ running: string[]; answering: boolean }> {
  const group = started.pnpm.pid as number;
  const deadline = Date.now() + STOP_TIMEOUT_IN_MS;
  let running = stillRunning([...new Set([...started.tree, ...inGroup(group)])]);
  let answering = await answersAtAll(started.url);
  while ((running.length > 0 || answering) && Date.now() < deadline) {
    await sleep(200);
    running = stillRunning([...new Set([...started.tree, ...inGroup(group)])]);
    answering = await answersAtAll(started.url);
  }
  return { running, answering };
}

function stopGroup(pnpm: ChildProcess): void {
  try {
    process.kill(-(pnpm.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('pnpm start, signalled as a process manager signals it', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the pnpm process drains the server and leaves no process behind (DATABASE_URL)`, async () => {
      const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-start-signal-'));
      const started = await startService({ DATABASE_URL: database.url, IAM_DATA_DIR: dataDir });
      try {
        // pnpm, the server and whatever they started: more than pnpm alone.
        expect(started.tree.length).toBeGreaterThan(1);

        process.kill(started.pnpm.pid as number, signal);

        const { running, answering } = await waitUntilGone(started);
        expect(running, started.output()).toEqual([]);
        expect(answering).toBe(false);
        // pnpm waited for the server and reports its clean exit.
        expect(await started.exited).toEqual({ code: 0, signal: null });
        expect(started.output()).toContain('draining');
        expect(started.output()).toContain('"msg":"stopped"');
      } finally {
        stopGroup(started.pnpm);
        await rm(dataDir, { recursive: true, force: true });
        await database.drop();
      }
    }, 120_000);
  }

  it('SIGTERM to the pnpm process stops the embedded database too (no DATABASE_URL)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-start-signal-'));
    const started = await startService({ IAM_DATA_DIR: dataDir, NODE_ENV: 'development' });
    try {
      expect(mariadbdFor(dataDir)).toHaveLength(1);

      process.kill(started.pnpm.pid as number, 'SIGTERM');

      const { running, answering } = await waitUntilGone(started);
      expect(running, started.output()).toEqual([]);
      expect(answering).toBe(false);
      expect(mariadbdFor(dataDir)).toEqual([]);
      expect(await started.exited).toEqual({ code: 0, signal: null });
      expect(started.output()).toContain('embedded database stopped');
    } finally {
      stopGroup(started.pnpm);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a hangup of the whole process group (the terminal closed) drains too and stops the embedded database', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-start-signal-'));
    const started = await startService({ IAM_DATA_DIR: dataDir, NODE_ENV: 'development' });
    try {
      expect(mariadbdFor(dataDir)).toHaveLength(1);

      // Every process of the group gets it, as from a closing terminal; mariadbd takes SIGHUP
      // for "reopen the logs", so only the server stopping it makes it go.
      process.kill(-(started.pnpm.pid as number), 'SIGHUP');

      const { running, answering } = await waitUntilGone(started);
      expect(running, started.output()).toEqual([]);
      expect(answering).toBe(false);
      expect(mariadbdFor(dataDir)).toEqual([]);
      expect(started.output()).toContain('draining');
      expect(started.output()).toContain('embedded database stopped');
    } finally {
      stopGroup(started.pnpm);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
