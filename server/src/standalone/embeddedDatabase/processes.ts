import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

/** Processes, files and small helpers of the embedded database. */

/** What this module logs through; any pino logger fits. */
export type EmbeddedDatabaseLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export const POLL_INTERVAL_IN_MS = 50;

export const LOG_TAIL_LINES = 25;

/** Runs a command, sending its output lines to the logger; rejects with the last lines on failure. */
export async function runLogged(
  command: string,
  args: string[],
  opts: { logger: EmbeddedDatabaseLogger; level: 'debug' | 'info'; label?: string },
): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const recentLines: string[] = [];
  const source = opts.label ?? path.basename(command);
  forEachOutputLine(child, (line) => {
    opts.logger[opts.level]({ source }, line);
    recentLines.push(line);
    if (recentLines.length > LOG_TAIL_LINES) recentLines.shift();
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${exitCode}):\n${recentLines.join('\n')}`);
  }
}

/** stdout and the exit code, or null when the command cannot be spawned at all. */
export function runForOutput(command: string, args: string[]): Promise<{ stdout: string; exitCode: number | null } | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', () => resolve(null));
    child.once('close', (exitCode) => resolve({ stdout, exitCode }));
  });
}

export async function runs(command: string, args: string[]): Promise<boolean> {
  return (await runForOutput(command, args))?.exitCode === 0;
}

export function forEachOutputLine(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
  }
}

export async function readLogTail(file: string, fromOffset: number): Promise<string> {
  try {
    const lines = (await readFile(file)).subarray(fromOffset).toString('utf8').split('\n').filter(Boolean);
    return lines.slice(-LOG_TAIL_LINES).join('\n');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return '(no error log was written)';
    throw error;
  }
}

export async function readPid(pidFile: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

export async function fileSize(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export async function pollUntil(condition: () => Promise<boolean>, timeoutInMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutInMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await sleep(POLL_INTERVAL_IN_MS);
  }
  return false;
}

export function settlesWithin(promise: Promise<unknown>, timeoutInMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutInMs);
    const settle = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** mariadbd and mysqld refuse to run as root unless told to. */
export function runAsRootArgs(): string[] {
  return isRoot() ? ['--user=root'] : [];
}
