// The service instances of `pnpm bench --scale`: the compiled standalone service as an operator
// runs it in production (NODE_ENV=production, DATABASE_URL), several of them on one database,
// all with the same secret and the same PUBLIC_URL so a token from one is accepted by the others.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStandalone, stopStandalone } from '../../src/harness/standalone';
import type { LoopResult } from './loop';
import { freePort, type RunningService } from './service';

/** A group of instances on one database: their shared settings, decided before the first starts. */
export interface InstanceGroup {
  secret: string;
  /** The first instance's URL: every instance's PUBLIC_URL (so `iss` and `aud`). */
  publicUrl: string;
  firstPort: number;
}

export async function instanceGroup(): Promise<InstanceGroup> {
  const firstPort = await freePort();
  return { secret: randomBytes(32).toString('base64url'), publicUrl: `http://127.0.0.1:${firstPort}`, firstPort };
}

/**
 * Starts one instance on `databaseUrl` (its `iam` database is created beforehand; the first
 * instance to start migrates it) and waits until it is listening and `/readyz` answers.
 * Mail goes to the outbox under its own data dir (production refuses to start without a mail
 * transport; MAIL_TRANSPORT=outbox says so on purpose).
 */
export async function startInstance(opts: {
  group: InstanceGroup;
  /** 0 takes the group's first port (its PUBLIC_URL). */
  index: number;
  databaseUrl: string;
  adminUrl: string;
  dataDir: string;
  config: unknown;
}): Promise<RunningService> {
  const port = opts.index === 0 ? opts.group.firstPort : await freePort();
  await mkdir(opts.dataDir, { recursive: true });
  const configFile = path.join(opts.dataDir, 'bench-config.json');
  await writeFile(configFile, `${JSON.stringify(opts.config, null, 2)}\n`);
  const started = await startStandalone(
    {
      NODE_ENV: 'production',
      IAM_SECRET: opts.group.secret,
      DATABASE_URL: opts.databaseUrl,
      IAM_DATA_DIR: opts.dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: opts.group.publicUrl,
      IAM_CONFIG_FILE: configFile,
      LOG_LEVEL: 'warn',
      HIBP_API_URL: 'off',
      MAIL_TRANSPORT: 'outbox',
      // The allocator settings `pnpm start` gives the server (root package.json).
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
      MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? '131072',
    },
    180_000,
    { compiled: true },
  );
  const stop = async () => {
    const timer = setTimeout(() => started.child.kill('SIGKILL'), 30_000);
    try {
      await stopStandalone(started);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const deadline = performance.now() + 60_000;
    for (;;) {
      const ready = await fetch(`${started.url}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (performance.now() > deadline) throw new Error(`instance ${started.url} not ready:\n${started.output().slice(-3000)}`);
      await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pid: started.child.pid ?? -1,
    url: started.url,
    trpcUrl: `${started.url}/trpc`,
    dataDir: opts.dataDir,
    secret: opts.group.secret,
    databaseUrl: opts.databaseUrl,
    adminUrl: opts.adminUrl,
    stop,
  };
}

/**
 * One result from loops that ran side by side (one per instance): operations and failures
 * add up; latency is the instances' p50s weighted by their operations, and the worst p99 and max.
 */
export function combineResults(results: LoopResult[]): LoopResult {
  const ok = results.reduce((sum, result) => sum + result.ok, 0);
  const failed = results.reduce((sum, result) => sum + result.failed, 0);
  const durationInSeconds = Math.max(...results.map((result) => result.durationInSeconds));
  const timed = results.filter((result) => result.latencyMs && result.ok > 0);
  const timedOk = timed.reduce((sum, result) => sum + result.ok, 0);
  const firstError = results.find((result) => result.firstError)?.firstError;
  return {
    ok,
    failed,
    durationInSeconds,
    perSecond: results.reduce((sum, result) => sum + result.perSecond, 0),
    ...(timed.length > 0
      ? {
          latencyMs: {
            p50: timed.reduce((sum, result) => sum + (result.latencyMs?.p50 ?? 0) * result.ok, 0) / timedOk,
            p99: Math.max(...timed.map((result) => result.latencyMs?.p99 ?? 0)),
            max: Math.max(...timed.map((result) => result.latencyMs?.max ?? 0)),
          },
        }
      : {}),
    ...(firstError ? { firstError } : {}),
  };
}
