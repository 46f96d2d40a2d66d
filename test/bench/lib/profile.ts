import { readFileSync } from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type SeededAccount, seedServiceAccounts, serviceTemplate } from './accounts';
import { browserUserAgent } from './http';
import { httpLoad, refreshLoad } from './load';
import type { LoopResult } from './loop';
import { benchPassword, logIn, mapLimited, signUp } from './seed';
import { childrenOf, startService } from './service';

/** The V8 CPU profile format `--cpu-prof` writes. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Window {
  name: string;
  /** Monotonic microseconds, the clock of the profile's timestamps. */
  from: number;
  to: number;
  result: LoopResult;
  /** CPU use over the window, in percent of one core. */
  cpu: { servicePercent: number; mainThreadPercent: number; databasePercent: number | null; benchPercent: number };
}

export interface ProfileSummary {
  window: string;
  opsPerSecond: number;
  cpu: Window['cpu'];
  /** The window on the profile's clock, to cut the same slice from service.cpuprofile again. */
  profileMicros: { from: number; to: number };
  samples: number;
  /** Self time by function, in percent of the window's samples. */
  topSelf: Array<{ percent: number; function: string; where: string }>;
  /** Self time by package or source file. */
  byArea: Array<{ percent: number; area: string }>;
  /** Inclusive time (self + callees) of the service's own functions. */
  ourInclusive: Array<{ percent: number; function: string; where: string }>;
  /** Inclusive time by package: how much of the window ran inside each. */
  areaInclusive: Array<{ percent: number; area: string }>;
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * User + system CPU seconds a process (or, with `thread`, one of its threads) has used
 * (/proc/<pid>/stat, clock ticks of 10 ms). The service's main thread is its JavaScript; the
 * rest is libuv's pool (argon2, crypto) and V8's helpers.
 */
function cpuSecondsOf(pid: number, thread?: number): number {
  try {
    const fields =
      readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8')
        .split(') ')[1]
        ?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * `pnpm bench --profile`: one run of the service under `--cpu-prof`, loaded in turn with
 * refreshes, authenticated calls and no-op calls; the profile is cut into those windows and
 * each is summarised by self time (functions, packages) and by inclusive time.
 */
export async function profileService(opts: {
  repoRoot: string;
  work: string;
  resultsDir: string;
  config: unknown;
  concurrency: { refresh: number; calls: number; password: number };
  seconds: number;
  cleanups: Array<() => Promise<unknown>>;
}): Promise<void> {
  const profileDir = path.join(opts.work, 'profile');
  const service = await startService({
    repoRoot: opts.repoRoot,
    dataDir: path.join(opts.work, 'data'),
    config: opts.config,
    cpuProfileDir: profileDir,
  });
  let stopped = false;
  opts.cleanups.push(async () => {
    if (!stopped) await service.stop();
  });
  const emails = Array.from({ length: opts.concurrency.refresh }, (_, i) => `refresh-${i}@bench.test`);
  const users = await mapLimited(emails, 4, (email) => signUp(service, email));
  // Sign-ins as in the full run: seeded copies of one account, round-robin, each on its own
  // trusted device, so none reaches the session cap (whose eviction mails an alert).
  const template = await serviceTemplate(service.databaseUrl, (await signUp(service, 'template@bench.test')).email);
  const loginAccounts = await seedServiceAccounts(service.databaseUrl, template, { prefix: 'login', count: 1000 });
  const meUser = users[0];
  if (!meUser) throw new Error('no user');
  const browser = { 'user-agent': browserUserAgent, cookie: `iam_cid=${meUser.canary}` };
  const database = childrenOf(service.pid)[0] ?? null;

  let refreshCookies: string[] = [];
  const loads: Array<{ name: string; prepare?(): Promise<void>; run(seconds: number): Promise<LoopResult> }> = [
    {
      name: 'refresh',
      // Fresh sessions, signed in before the window opens.
      prepare: async () => {
        refreshCookies = (await mapLimited(users, 4, (user) => logIn(service, user))).map((session) => session.refreshCookie);
      },
      run: (seconds) => refreshLoad(service.trpcUrl, refreshCookies, seconds * 1000),
    },
    {
      name: 'auth_me',
      run: (seconds) =>
        httpLoad({
          url: `${service.trpcUrl}/auth.me`,
          headers: { ...browser, authorization: `Bearer ${meUser.accessToken}` },
          connections: opts.concurrency.calls,
          durationInSeconds: seconds,
        }),
    },
    {
      name: 'noop',
      run: (seconds) =>
        httpLoad({
          url: `${service.trpcUrl}/system.ping`,
          headers: browser,
          connections: opts.concurrency.calls,
          durationInSeconds: seconds,
        }),
    },
    {
      name: 'login',
      run: (seconds) =>
        httpLoad({
          url: `${service.trpcUrl}/auth.login`,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': browserUserAgent },
          connections: opts.concurrency.password,
          durationInSeconds: seconds,
          perRequest: (n) => {
            const account = loginAccounts[n % loginAccounts.length] as SeededAccount;
            return {
              headers: { cookie: `iam_cid=${account.canary}` },
              body: JSON.stringify({ json: { email: account.email, password: benchPassword } }),
            };
          },
        }),
    },
  ];
  for (const load of loads) {
    await load.prepare?.();
    await load.run(1.5);
  }

  const windows: Window[] = [];
  for (const load of loads) {
    await load.prepare?.();
    const cpuBefore = [
      cpuSecondsOf(service.pid),
      database ? cpuSecondsOf(database) : 0,
      cpuSecondsOf(service.pid, service.pid),
      cpuSecondsOf(process.pid),
    ];
    const from = monotonicMicros();
    const result = await load.run(opts.seconds);
    const to = monotonicMicros();
    const wall = (to - from) / 1e6;
    const cpu = {
      servicePercent: Math.round(((cpuSecondsOf(service.pid) - (cpuBefore[0] ?? 0)) / wall) * 100),
      mainThreadPercent: Math.round(((cpuSecondsOf(service.pid, service.pid) - (cpuBefore[2] ?? 0)) / wall) * 100),
      databasePercent: database ? Math.round(((cpuSecondsOf(database) - (cpuBefore[1] ?? 0)) / wall) * 100) : null,
      benchPercent: Math.round(((cpuSecondsOf(process.pid) - (cpuBefore[3] ?? 0)) / wall) * 100),
    };
    windows.push({ name: load.name, from, to, result, cpu });
    console.log(
      `[profile] ${load.name}: ${result.perSecond.toFixed(1)}/s, service CPU ${cpu.servicePercent} % (main thread ${cpu.mainThreadPercent} %), ` +
        `database CPU ${cpu.databasePercent} %, load generator ${cpu.benchPercent} %`,
    );
  }
  await service.stop();
  stopped = true;

  const files = (await readdir(profileDir)).filter((file) => file.endsWith('.cpuprofile'));
  const file = files[0];
  if (!file) throw new Error(`the service wrote no profile into ${profileDir}`);
  const profile = JSON.parse(await readFile(path.join(profileDir, file), 'utf8')) as CpuProfile;
  const kept = path.join(opts.resultsDir, 'service.cpuprofile');
  await copyFile(path.join(profileDir, file), kept);
  const first = windows[0];
  if (first && (profile.startTime > first.from || profile.endTime < first.to)) {
    console.warn('[profile] the profile clock does not cover the load windows; the windows may be misplaced');
  }

  const summaries = windows.map((window) => summarise(profile, window, opts.repoRoot));
  for (const summary of summaries) printSummary(summary);
  await writeFile(
    path.join(opts.resultsDir, 'profile.json'),
    `${JSON.stringify({ generatedAt: new Date().toISOString(), summaries }, null, 2)}\n`,
  );
  console.log(`\nprofile: ${path.relative(process.cwd(), kept)} (open in Chrome DevTools), summary in results/profile.json`);
}

function summarise(profile: CpuProfile, window: Window, repoRoot: string): ProfileSummary {
  const parents = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const ours = new Map<string, number>();
  const areasInclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let samples = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (time < window.from || time > window.to) continue;
    const node = byId.get(profile.samples[i] ?? -1);
    if (!node) continue;
    samples++;
    add(self, frameKey(node.callFrame, repoRoot));
    add(areas, areaOf(node.callFrame, repoRoot));
    const seenFrames = new Set<string>();
    const seenAreas = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame) break;
      const area = areaOf(frame, repoRoot);
      if (!seenAreas.has(area)) {
        seenAreas.add(area);
        add(areasInclusive, area);
      }
      if (area.startsWith('server/src/')) {
        const key = frameKey(frame, repoRoot);
        if (!seenFrames.has(key)) {
          seenFrames.add(key);
          add(ours, key);
        }
      }
    }
  }
  const percent = (count: number) => Math.round((count / Math.max(1, samples)) * 1000) / 10;
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, count]) => ({ percent: percent(count), key }));
  const splitKey = (key: string) => {
    const [fn = '', where = ''] = key.split(' @ ');
    return { function: fn, where };
  };
  return {
    window: window.name,
    opsPerSecond: Math.round(window.result.perSecond),
    cpu: window.cpu,
    profileMicros: { from: window.from, to: window.to },
    samples,
    topSelf: top(self, 25).map(({ percent, key }) => ({ percent, ...splitKey(key) })),
    byArea: top(areas, 20).map(({ percent, key }) => ({ percent, area: key })),
    ourInclusive: top(ours, 25).map(({ percent, key }) => ({ percent, ...splitKey(key) })),
    areaInclusive: top(areasInclusive, 25).map(({ percent, key }) => ({ percent, area: key })),
  };
}

function frameKey(frame: CpuProfile['nodes'][number]['callFrame'], repoRoot: string): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} @ ${shortUrl(frame.url, repoRoot)}:${frame.lineNumber + 1}`;
}

function shortUrl(url: string, repoRoot: string): string {
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules !== -1) return file.slice(modules + '/node_modules/'.length);
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

/** A package (`pino`, `@trpc/server`), a file of ours, a node built-in, or V8's own bucket. */
function areaOf(frame: CpuProfile['nodes'][number]['callFrame'], repoRoot: string): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (frame.url.startsWith('node:')) return frame.url.split('/').slice(0, 2).join('/');
  const short = shortUrl(frame.url, repoRoot);
  if (short !== frame.url.replace(/^file:\/\//, '') && !short.startsWith('server/') && !short.startsWith('shared/')) {
    const parts = short.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? short);
  }
  return short;
}

function printSummary(summary: ProfileSummary): void {
  console.log(
    `\n== ${summary.window}: ${summary.opsPerSecond}/s, ${summary.samples} samples, ` +
      `service CPU ${summary.cpu.servicePercent} %, database CPU ${summary.cpu.databasePercent} % ==`,
  );
  console.log('self time by area:');
  for (const row of summary.byArea.slice(0, 15)) console.log(`  ${row.percent.toFixed(1).padStart(5)}%  ${row.area}`);
  console.log('self time by function:');
  for (const row of summary.topSelf.slice(0, 20)) console.log(`  ${row.percent.toFixed(1).padStart(5)}%  ${row.function}  ${row.where}`);
  console.log('inclusive time by area:');
  for (const row of summary.areaInclusive.slice(0, 20)) console.log(`  ${row.percent.toFixed(1).padStart(5)}%  ${row.area}`);
  console.log('inclusive time of our functions:');
  for (const row of summary.ourInclusive.slice(0, 20))
    console.log(`  ${row.percent.toFixed(1).padStart(5)}%  ${row.function}  ${row.where}`);
}
