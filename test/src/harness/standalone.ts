import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The standalone service and CLI as an operator runs them (`node --import tsx …`, an
 * environment of its own, nothing inherited but PATH), for the suites that judge a process by
 * what it prints and how it exits.
 */
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export interface StandaloneRun {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  exited: Promise<number | null>;
}

/**
 * `compiled`: the built JavaScript `pnpm start` runs (`server/dist/bin/main.js`, `node` alone)
 * instead of the TypeScript sources through tsx.
 */
export function runStandalone(
  script: 'main.ts' | 'cli.ts',
  env: Record<string, string>,
  args: string[] = [],
  options: { compiled?: boolean } = {},
): StandaloneRun {
  const entry = options.compiled
    ? [`server/dist/bin/${script.replace(/\.ts$/, '.js')}`]
    : ['--import', 'tsx', `server/src/standalone/${script}`];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HIBP_API_URL: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Starts main.ts and waits for its "listening" line; the URL it printed. */
export async function startStandalone(
  env: Record<string, string>,
  timeoutInMs = 60_000,
  options: { compiled?: boolean } = {},
): Promise<StandaloneRun & { url: string }> {
  const started = runStandalone('main.ts', env, [], options);
  const deadline = Date.now() + timeoutInMs;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`the service exited early:\n${started.output()}`);
    const url = /IAM service listening on (http:\/\/\S+:\d+)/.exec(started.output())?.[1];
    if (url) return { ...started, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  started.child.kill('SIGKILL');
  throw new Error(`the service did not start:\n${started.output()}`);
}

/** SIGTERM, and the exit. */
export async function stopStandalone(started: StandaloneRun | undefined): Promise<void> {
  if (started && started.child.exitCode === null) {
    started.child.kill('SIGTERM');
    await started.exited;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
