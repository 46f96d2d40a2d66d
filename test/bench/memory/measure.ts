// The standalone service's memory, idle and under a load like `pnpm bench`'s:
//
//   cd test && npx tsx bench/memory/measure.ts            prints a table and the JSON
//   MEASURE_OUT=/tmp/m.json npx tsx bench/memory/measure.ts   also writes the JSON there
//   MEASURE_SECONDS=10 MEASURE_ROUNDS=2                   seconds per load phase, rounds of them
//
// The service is started the way the bench starts it (lib/service.ts: compiled, NODE_ENV=development,
// embedded MariaDB under a temporary IAM_DATA_DIR, limits raised by the config file). Variables
// set for this script (MALLOC_ARENA_MAX, NODE_OPTIONS…) reach the service too, so a setting can
// be compared with and without. A probe (probe.mjs, through NODE_OPTIONS) reports the heap figures
// only the process sees. The figures are the service's own process; the database is another one.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { browserUserAgent } from '../lib/http';
import { httpLoad, refreshLoad } from '../lib/load';
import { type LoopResult, timedLoop } from '../lib/loop';
import { type BenchUser, logIn, mapLimited, signUp } from '../lib/seed';
import { startService } from '../lib/service';
import { serviceConfig } from '../lib/serviceConfig';

const memoryDir = import.meta.dirname;
const repoRoot = path.resolve(memoryDir, '../../..');
const seconds = Number(process.env.MEASURE_SECONDS ?? 10);
const rounds = Number(process.env.MEASURE_ROUNDS ?? 2);
const idleSeconds = Number(process.env.MEASURE_IDLE_SECONDS ?? 5);

interface Sample {
  /** /proc/<pid>/status, MiB. */
  rssMb: number;
  peakRssMb: number;
  /** /proc/<pid>/smaps_rollup, MiB: anonymous memory (heaps, arenas, Buffers) and file-backed pages (code, mapped files). */
  anonymousMb: number;
  fileMb: number;
  /**
   * Anonymous resident memory by kind of mapping (/proc/<pid>/smaps), MiB: glibc's main heap
   * (`[heap]`), glibc's thread arenas (64 MiB reservations), and the rest (V8's heap pages and
   * code, large malloc blocks mmap'd on their own, thread stacks).
   */
  anonymousByKindMb: { mainHeap: number; threadArenas: number; other: number };
  /** Pages given back with MADV_FREE that the kernel has not taken yet: counted in RSS, reclaimed under pressure. */
  lazyFreeMb: number;
  /** From inside the process after a full collection (probe.mjs), MiB. */
  heapUsedMb?: number;
  heapTotalMb?: number;
  externalMb?: number;
  arrayBuffersMb?: number;
  heapSpacesMb?: Record<string, number>;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function sample(pid: number, probeFile: string): Promise<Sample> {
  // The kernel's figures first: the probe's collection would change them.
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  const rssKb = kb(rollup, 'Rss');
  const byKind = { mainHeap: 0, threadArenas: 0, other: 0 };
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8');
  for (const mapping of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const anonymous = kb(mapping, 'Anonymous');
    if (!anonymous) continue;
    const header = mapping.slice(0, mapping.indexOf('\n'));
    const [from = '0', to = '0'] = header.split(' ', 1)[0]?.split('-') ?? [];
    const start = BigInt(`0x${from}`);
    const sizeKb = Number((BigInt(`0x${to}`) - start) / 1024n);
    // A thread arena's heap is a 64 MiB-aligned reservation of at most 64 MiB (glibc HEAP_MAX_SIZE).
    if (header.endsWith('[heap]')) byKind.mainHeap += anonymous;
    else if (start % (64n << 20n) === 0n && sizeKb <= 65_536) byKind.threadArenas += anonymous;
    else byKind.other += anonymous;
  }
  const anonymousKb = kb(rollup, 'Anonymous');
  const result: Sample = {
    rssMb: mb(kb(status, 'VmRSS') * 1024),
    peakRssMb: mb(kb(status, 'VmHWM') * 1024),
    anonymousMb: mb(anonymousKb * 1024),
    fileMb: mb((rssKb - anonymousKb) * 1024),
    lazyFreeMb: mb(kb(rollup, 'LazyFree') * 1024),
    anonymousByKindMb: {
      mainHeap: mb(byKind.mainHeap * 1024),
      threadArenas: mb(byKind.threadArenas * 1024),
      other: mb(byKind.other * 1024),
    },
  };
  await rm(probeFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let attempt = 0; attempt < 100; attempt++) {
    await sleep(50);
    const text = await readFile(probeFile, 'utf8').catch(() => '');
    if (!text) continue;
    const probe = JSON.parse(text) as { memory: NodeJS.MemoryUsage; spaces: Record<string, number> };
    result.heapUsedMb = mb(probe.memory.heapUsed);
    result.heapTotalMb = mb(probe.memory.heapTotal);
    result.externalMb = mb(probe.memory.external);
    result.arrayBuffersMb = mb(probe.memory.arrayBuffers);
    result.heapSpacesMb = Object.fromEntries(Object.entries(probe.spaces).map(([name, bytes]) => [name, mb(bytes)]));
    break;
  }
  return result;
}

const work = await mkdtemp(path.join(tmpdir(), 'iam-memory-'));
const probeFile = path.join(work, 'probe.json');
const previousNodeOptions = process.env.NODE_OPTIONS;
process.env.NODE_OPTIONS = [previousNodeOptions, `--import=${path.join(memoryDir, 'probe.mjs')}`].filter(Boolean).join(' ');
process.env.MEMORY_PROBE_OUT = probeFile;
const startedAt = performance.now();
const service = await startService({ repoRoot, dataDir: path.join(work, 'data'), config: serviceConfig, logLevel: 'warn' });
const readyAfterMs = performance.now() - startedAt;
if (previousNodeOptions === undefined) delete process.env.NODE_OPTIONS;
else process.env.NODE_OPTIONS = previousNodeOptions;
delete process.env.MEMORY_PROBE_OUT;

const samples: Record<string, Sample> = {};
const throughput: Record<string, number[]> = { login: [], refresh: [], auth_me: [] };
const cpuPerOperationUs: Record<string, number[]> = { login: [], refresh: [], auth_me: [] };
try {
  await sleep(idleSeconds * 1000);
  samples.idle = await sample(service.pid, probeFile);
  console.log(`idle ${idleSeconds} s after ready (${(readyAfterMs / 1000).toFixed(1)} s):`, samples.idle);

  const emails = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}@bench.test`);
  const firstSignUpAt = performance.now();
  const loginUsers = await mapLimited(emails('login', 4), 4, (email) => signUp(service, email));
  const firstSignUpsMs = performance.now() - firstSignUpAt;
  const refreshUsers = await mapLimited(emails('refresh', 8), 4, (email) => signUp(service, email));
  const [meUser] = await mapLimited(emails('me', 1), 1, (email) => signUp(service, email));
  if (!meUser) throw new Error('no user for auth.me');
  samples.afterSignUps = await sample(service.pid, probeFile);
  console.log(`after 13 sign-ups (first 4 in ${firstSignUpsMs.toFixed(0)} ms):`, samples.afterSignUps);

  // The service's CPU time per operation (utime + stime from /proc/<pid>/stat): on a shared, busy
  // machine a steadier figure than operations per second, which other processes' load moves.
  const cpuMs = async () => {
    const fields = (await readFile(`/proc/${service.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  };
  const record = async (name: string, run: () => Promise<LoopResult>) => {
    const before = await cpuMs();
    const result = await run();
    const cpuPerOpUs = result.ok > 0 ? Math.round((((await cpuMs()) - before) * 1000) / result.ok) : Number.NaN;
    throughput[name]?.push(Math.round(result.perSecond * 10) / 10);
    cpuPerOperationUs[name]?.push(cpuPerOpUs);
    console.log(
      `${name.padEnd(8)} ${result.perSecond.toFixed(1).padStart(8)}/s  ${String(cpuPerOpUs).padStart(6)} µs CPU each  ok ${result.ok}  failed ${result.failed}${result.firstError ? ` (${result.firstError})` : ''}`,
    );
  };
  for (let round = 0; round < rounds; round++) {
    // Password sign-ins at the bench's concurrency (4): argon2id's 19 MiB blocks on up to 4 libuv threads.
    await record('login', () =>
      timedLoop({ concurrency: 4, durationInMs: seconds * 1000 }, (worker) => logIn(service, loginUsers[worker] as BenchUser)),
    );
    const cookies = (await mapLimited(refreshUsers, 4, (user) => logIn(service, user))).map((session) => session.refreshCookie);
    await record('refresh', () => refreshLoad(service.trpcUrl, cookies, seconds * 1000));
    await record('auth_me', () =>
      httpLoad({
        url: `${service.trpcUrl}/auth.me`,
        headers: { authorization: `Bearer ${meUser.accessToken}`, 'user-agent': browserUserAgent, cookie: `iam_cid=${meUser.canary}` },
        connections: 10,
        durationInSeconds: seconds,
      }),
    );
  }
  samples.afterLoad = await sample(service.pid, probeFile);
  console.log('after the load:', samples.afterLoad);
  await sleep(10_000);
  samples.idleAfterLoad = await sample(service.pid, probeFile);
  console.log('idle 10 s after the load:', samples.idleAfterLoad);

  const report = {
    environment: {
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? null,
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? null,
      MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? null,
      NODE_OPTIONS: previousNodeOptions ?? null,
    },
    readyAfterMs: Math.round(readyAfterMs),
    firstSignUpsMs: Math.round(firstSignUpsMs),
    samples,
    throughput,
    cpuPerOperationUs,
  };
  console.log(
    '\n| moment | RSS MB | peak (VmHWM) MB | anonymous MB | glibc main heap MB | glibc thread arenas MB | other anonymous MB | file MB | V8 heap total MB | V8 heap used MB | external MB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, s] of Object.entries(samples)) {
    console.log(
      `| ${name} | ${s.rssMb} | ${s.peakRssMb} | ${s.anonymousMb} | ${s.anonymousByKindMb.mainHeap} | ${s.anonymousByKindMb.threadArenas} | ${s.anonymousByKindMb.other} | ${s.fileMb} | ${s.heapTotalMb ?? '—'} | ${s.heapUsedMb ?? '—'} | ${s.externalMb ?? '—'} |`,
    );
  }
  console.log(`throughput /s: ${JSON.stringify(throughput)}`);
  console.log(`service CPU µs per operation: ${JSON.stringify(cpuPerOperationUs)}`);
  console.log(JSON.stringify(report));
  if (process.env.MEASURE_OUT) await writeFile(process.env.MEASURE_OUT, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await service.stop();
  await rm(work, { recursive: true, force: true });
}
