import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The standalone service (`pnpm start`), run as its own process on a private data dir. */
export interface RunningService {
  pid: number;
  /** `http://127.0.0.1:PORT`, also its PUBLIC_URL (so `iss` and `aud`). */
  url: string;
  trpcUrl: string;
  dataDir: string;
  secret: string;
  /** The embedded database, as the service itself reaches it. */
  databaseUrl: string;
  /** The same server without a database (it may create databases). */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  repoRoot: string;
  /** IAM_DATA_DIR: the embedded MariaDB and the outbox live here. */
  dataDir: string;
  /** IAM_CONFIG_FILE contents. */
  config: unknown;
  secret?: string;
  /** `--cpu-prof` into this directory. */
  cpuProfileDir?: string;
  logLevel?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the service the way `pnpm start` does (the compiled `server/dist/bin/main.js`, no DATABASE_URL so it
 * provisions MariaDB under the data dir), with rate limits and mail set for a benchmark, and
 * waits until `/readyz` answers. Its log goes to `<dataDir>/service.log`.
 */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = opts.secret ?? randomBytes(32).toString('base64url');
  await mkdir(opts.dataDir, { recursive: true });
  const configFile = path.join(opts.dataDir, 'bench-config.json');
  await writeFile(configFile, `${JSON.stringify(opts.config, null, 2)}\n`);
  const logFile = path.join(opts.dataDir, 'service.log');
  const log = openSync(logFile, 'a');

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'RESEND_API_KEY', 'RESEND_BASE_URL', 'REDIS_URL', 'TRUST_PROXY', 'METRICS_TOKEN', 'HMAC_KEYS'])
    delete env[name];
  Object.assign(env, {
    // Development: production refuses the embedded database and an outbox for mail, both of
    // which a benchmark on one machine wants. The config file sets the limits the bench needs;
    // what development changes besides (no MX or online breach check, open /metrics) asks
    // nothing of the network and costs nothing on the measured paths.
    NODE_ENV: 'development',
    MAIL_TRANSPORT: 'outbox',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    IAM_SECRET: secret,
    IAM_DATA_DIR: opts.dataDir,
    IAM_CONFIG_FILE: configFile,
    HIBP_API_URL: 'off',
    LOG_LEVEL: opts.logLevel ?? 'info',
    // The allocator settings `pnpm start` gives the server (root package.json), unless set here already.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
    MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? '131072',
  });
  // The compiled service, as `pnpm start` runs it: built first when missing or stale, then plain `node`.
  execFileSync(process.execPath, ['server/build/ensureBuilt.mjs'], { cwd: opts.repoRoot, stdio: 'inherit' });
  const args = [
    ...(opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`, '--enable-source-maps'] : []),
    'server/dist/bin/main.js',
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: opts.repoRoot, env, stdio: ['ignore', log, log] });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const logTail = () => readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');

  const deadline = performance.now() + 180_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the service exited (${exitCode}) while starting:\n${logTail()}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready within 180 s:\n${logTail()}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }

  const state = JSON.parse(await readFile(path.join(opts.dataDir, 'mysql', 'iam-db.json'), 'utf8')) as {
    user: string;
    password: string;
    port: number;
  };
  const admin = new URL(`mysql://127.0.0.1:${state.port}`);
  admin.username = state.user;
  admin.password = state.password;
  const database = new URL(admin);
  database.pathname = '/iam';

  return {
    pid: child.pid ?? -1,
    url,
    trpcUrl: `${url}/trpc`,
    dataDir: opts.dataDir,
    secret,
    databaseUrl: database.href,
    adminUrl: admin.href,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident set sizes of a process, in MiB: now, and the peak over its life (VmHWM). */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Direct children of a process (the embedded database is the service's child). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Samples a process's memory every `intervalInMs` until stopped; returns the largest VmRSS seen. */
export function sampleMemory(pid: number, intervalInMs = 250): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    const memory = memoryOf(pid);
    if (memory && memory.rssMb > peak) peak = memory.rssMb;
  }, intervalInMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
