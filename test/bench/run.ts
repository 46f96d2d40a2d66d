// `pnpm bench`: measures the service's hot paths against the limits of this machine and
// against better-auth, every figure a ratio to a baseline measured in the same run, the two
// interleaved round by round (machines here are shared and noisy). See README, Benchmarks.
//
//   pnpm bench                 full run (3 rounds of 5 s per target), writes results/latest.json
//   pnpm bench --profile       one profiled run of the refresh and authenticated paths instead
//   BENCH_ROUNDS=5 BENCH_SECONDS=8 pnpm bench
//   BENCH_GROWTH=0 pnpm bench  without the growth phase (10⁴…10⁶ sessions seeded after the rounds)
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIamServer, createLogger, type IamServer, passwordHashOptions, withSpan } from '@iam/server';
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import mysql from 'mysql2/promise';
import { type SeededAccount, seedBetterAuthAccounts, seedServiceAccounts, serviceTemplate } from './lib/accounts';
import { type Child, startChild } from './lib/child';
import { measureGeoMemory } from './lib/geoMemory';
import { type GrowthReport, runGrowth } from './lib/growth';
import { browserUserAgent, trpc } from './lib/http';
import { httpLoad, refreshLoad } from './lib/load';
import { type LoopResult, timedLoop } from './lib/loop';
import { populationTemplate } from './lib/population';
import { profileService } from './lib/profile';
import { primaryRatios, secondaryRatios } from './lib/ratios';
import { buildReport, machineInfo, printReport, type TargetSpec, writeReport } from './lib/report';
import { type BenchUser, benchPassword, logIn, mapLimited, signUp, signUpBetterAuth } from './lib/seed';
import { childrenOf, memoryOf, type RunningService, sampleMemory, startService } from './lib/service';
import { serviceConfig } from './lib/serviceConfig';
import { serviceStatements } from './lib/statementCounts';

// `pnpm bench --scale`: the scale-out benchmark on a Galera cluster instead (scale.ts).
if (process.argv.includes('--scale')) {
  const { runScale } = await import('./scale');
  process.exit(await runScale());
}

const benchDir = import.meta.dirname;
const repoRoot = path.resolve(benchDir, '../..');
const resultsDir = path.join(benchDir, 'results');

const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  secondsPerTarget: Number(process.env.BENCH_SECONDS ?? 5),
  warmupSeconds: 1,
  verifySeconds: 2,
  /** How long the service sits idle before its resident size is read (after start, after one sign-in). */
  idleSeconds: 5,
  /** Accounts the sign-in targets go round-robin over, on each side (seeded in SQL). */
  signInAccounts: Number(process.env.BENCH_SIGNIN_ACCOUNTS ?? 1000),
  /** Sequential calls per operation when counting its statements. */
  statementCalls: 50,
  growth: {
    enabled: process.env.BENCH_GROWTH !== '0',
    sizes: (process.env.BENCH_GROWTH_SIZES ?? '10000,100000,1000000').split(',').map(Number),
    rounds: 2,
    secondsPerTarget: 4,
    /** InnoDB's buffer pool and redo log during the phase (the embedded server's are 64 and 32 MiB). */
    innoDbBytes: 1024 * 1024 * 1024,
  },
  concurrency: {
    /** Password sign-ins and raw hash verifications in flight. */
    password: 4,
    /** Sessions refreshing at once, and raw rotation transactions at once. */
    refresh: 8,
    /** Keep-alive connections for the cheap calls (me, ping, get-session, bare servers). */
    calls: 10,
  },
};

const profile = process.argv.includes('--profile');
const startedAt = performance.now();
const work = await mkdtemp(path.join(tmpdir(), 'iam-bench-'));
const cleanups: Array<() => Promise<unknown>> = [];
let exitCode = 0;
try {
  if (profile) await profileRun();
  else await fullRun();
} catch (error) {
  exitCode = 1;
  console.error(error);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup:', error));
  await rm(work, { recursive: true, force: true });
}
console.log(`\nbench finished in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
process.exit(exitCode);

async function fullRun(): Promise<void> {
  const c = settings.concurrency;
  const seconds = settings.secondsPerTarget;
  // Before anything else runs, so the machine is quiet.
  const geoMemory = await measureGeoMemory(benchDir);
  log(`geolocation data: +${geoMemory.geo_data_mb} MB resident after the first lookup (${geoMemory.first_lookup_ms} ms)`);
  log(`starting the service (embedded MariaDB under ${work})`);
  const service = await startService({ repoRoot, dataDir: path.join(work, 'data'), config: serviceConfig });
  cleanups.push(() => service.stop());
  log(`service ${service.url} (pid ${service.pid}) ready after ${elapsed()}`);

  // Resident size at rest, before any call: once after start, once after one sign-up and sign-in.
  await sleep(settings.idleSeconds * 1000);
  const idleRssMb = memoryOf(service.pid)?.rssMb ?? null;
  const templateUser = await signUp(service, 'template@bench.test');
  await logIn(service, templateUser);
  await sleep(settings.idleSeconds * 1000);
  const idleAfterSignInRssMb = memoryOf(service.pid)?.rssMb ?? null;
  log(`service idle: ${idleRssMb?.toFixed(0)} MB resident after start, ${idleAfterSignInRssMb?.toFixed(0)} MB after one sign-in`);

  // Sign-in accounts, copies of the template account (lib/accounts.ts): the targets' and, apart,
  // those the statement counts sign in once each.
  const template = await serviceTemplate(service.databaseUrl, templateUser.email);
  const seeded = await seedServiceAccounts(service.databaseUrl, template, {
    prefix: 'login',
    count: settings.signInAccounts + 2 * settings.statementCalls + 1,
  });
  const loginAccounts = seeded.slice(0, settings.signInAccounts);
  const statementAccounts = seeded.slice(settings.signInAccounts);
  for (const account of [loginAccounts[0], loginAccounts.at(-1)] as SeededAccount[]) {
    // A seeded account signs in like one signed up through the API, without a challenge.
    await logIn(service, { email: account.email, password: benchPassword, canary: account.canary, accessToken: '' });
  }
  const emails = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}@bench.test`);
  const refreshUsers = await mapLimited(emails('refresh', c.refresh), 4, (email) => signUp(service, email));
  const [meUser] = await mapLimited(emails('me', 1), 1, (email) => signUp(service, email));
  if (!meUser) throw new Error('no user for auth.me');
  log(`${seeded.length} sign-in accounts seeded, ${refreshUsers.length + 1} signed up, after ${elapsed()}`);

  // Statements per operation while the service is the database's only client.
  const statements = await serviceStatements({
    service,
    calls: settings.statementCalls,
    accounts: statementAccounts,
    refreshUser: refreshUsers[0] as BenchUser,
    meUser,
  });
  log(
    `statements per call: ${Object.entries(statements)
      .map(([name, count]) => `${name} ${count.statements}`)
      .join(', ')} (after ${elapsed()})`,
  );

  // Helpers, each in its own process: baselines and the peer.
  const baSecret = randomBytes(32).toString('base64url');
  const baDatabases = await createDatabases(service.adminUrl, ['ba_argon2id', 'ba_scrypt']);
  const [hashWorker, rotationWorker, bareExpress, bareNode, baArgon2, baScrypt] = await Promise.all([
    startChild<Record<string, never>>(path.join(benchDir, 'workers/hash.ts')),
    startChild<Record<string, never>>(path.join(benchDir, 'workers/rotation.ts'), { BENCH_DATABASE_URL: service.databaseUrl }),
    startChild<{ port: number }>(path.join(benchDir, 'servers/bare.ts'), { BENCH_BARE_KIND: 'express' }),
    startChild<{ port: number }>(path.join(benchDir, 'servers/bare.ts'), { BENCH_BARE_KIND: 'node' }),
    startChild<{ baseURL: string }>(path.join(benchDir, 'servers/betterAuth.ts'), {
      BENCH_BA_DATABASE_URL: baDatabases[0] ?? '',
      BENCH_BA_SECRET: baSecret,
      BENCH_BA_HASH: 'argon2id',
    }),
    startChild<{ baseURL: string }>(path.join(benchDir, 'servers/betterAuth.ts'), {
      BENCH_BA_DATABASE_URL: baDatabases[1] ?? '',
      BENCH_BA_SECRET: baSecret,
      BENCH_BA_HASH: 'scrypt',
    }),
  ]);
  for (const child of [hashWorker, rotationWorker, bareExpress, bareNode, baArgon2, baScrypt]) cleanups.push(() => child.stop());
  log(`helpers ready after ${elapsed()}`);

  // The peer's sign-in accounts: as many, copies of an account signed up through its API.
  const [baArgon2Template] = await mapLimited(['ba-template@bench.test'], 1, (email) => signUpBetterAuth(baArgon2.ready.baseURL, email));
  const [baScryptTemplate] = await mapLimited(['ba-template@bench.test'], 1, (email) => signUpBetterAuth(baScrypt.ready.baseURL, email));
  if (!baArgon2Template || !baScryptTemplate) throw new Error('no better-auth template account');
  const [baArgon2Emails, baScryptEmails] = await Promise.all(
    [baDatabases[0] ?? '', baDatabases[1] ?? ''].map((url) =>
      seedBetterAuthAccounts(url, 'ba-template@bench.test', { prefix: 'ba', count: settings.signInAccounts }),
    ),
  );
  const baSession = baScryptTemplate.sessionCookie;
  for (const [baseURL, email] of [
    [baArgon2.ready.baseURL, baArgon2Emails?.at(-1)],
    [baScrypt.ready.baseURL, baScryptEmails?.at(-1)],
  ] as Array<[string, string]>) {
    const response = await fetch(`${baseURL}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: baseURL },
      body: JSON.stringify({ email, password: benchPassword }),
    });
    if (!response.ok) throw new Error(`a seeded better-auth account cannot sign in: ${response.status} ${await response.text()}`);
  }
  log(`better-auth accounts seeded after ${elapsed()}`);

  // Library mode in this process, on the same database: verifyAccessToken against raw jose.
  const library = await createIamServer({
    publicUrl: service.url,
    secret: service.secret,
    databaseUrl: service.databaseUrl,
    dataDir: path.join(work, 'library'),
    migrate: false,
    hibpApiUrl: null,
    logger: createLogger({ level: 'silent' }),
  });
  let libraryOpen = true;
  const closeLibrary = async () => {
    if (libraryOpen) await library.close();
    libraryOpen = false;
  };
  cleanups.push(closeLibrary);
  const token = meUser.accessToken;
  const joseKey = await importedKeyFor(service, token);
  const caller = library.createCaller();

  await sanityChecks({ service, meUser, bareExpress, bareNode, library, token, baSession, baScrypt: baScrypt.ready.baseURL });

  const jsonHeaders = { 'content-type': 'application/json', 'user-agent': browserUserAgent };
  const loginBody = (account: SeededAccount) => JSON.stringify({ json: { email: account.email, password: benchPassword } });
  const signInBody = (email: string) => JSON.stringify({ email, password: benchPassword });
  let refreshCookies: string[] = [];

  const targets: TargetSpec[] = [
    // Group 1: password sign-in and the cost of the hash itself.
    {
      name: 'login',
      group: 'password',
      what:
        `auth.login over HTTP (argon2id verify, limits, session, audit, token), ${loginAccounts.length} accounts taken ` +
        'round-robin across the connections, each from its own trusted device (iam_cid)',
      concurrency: c.password,
      run: (s) =>
        httpLoad({
          url: `${service.trpcUrl}/auth.login`,
          method: 'POST',
          headers: jsonHeaders,
          connections: c.password,
          durationInSeconds: s,
          perRequest: (n) => {
            const account = loginAccounts[n % loginAccounts.length] as SeededAccount;
            return { body: loginBody(account), headers: { cookie: `iam_cid=${account.canary}` } };
          },
        }),
    },
    {
      name: 'argon2id_verify',
      group: 'password',
      what: 'raw argon2.verify at the service parameters, separate node process',
      concurrency: c.password,
      run: (s) => hashWorker.call<LoopResult>('run', { algorithm: 'argon2id', concurrency: c.password, durationInMs: s * 1000 }),
    },
    {
      name: 'better_auth_signin_argon2id',
      group: 'password',
      what: `better-auth POST /sign-in/email, hash matched (our argon2id parameters), ${baArgon2Emails?.length} accounts round-robin as for login`,
      concurrency: c.password,
      run: (s) =>
        httpLoad({
          url: `${baArgon2.ready.baseURL}/api/auth/sign-in/email`,
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: baArgon2.ready.baseURL },
          connections: c.password,
          durationInSeconds: s,
          perRequest: (n) => ({ body: signInBody(baArgon2Emails?.[n % baArgon2Emails.length] ?? '') }),
        }),
    },
    {
      name: 'better_auth_signin_scrypt',
      group: 'password',
      what: `better-auth POST /sign-in/email, its default scrypt, ${baScryptEmails?.length} accounts round-robin`,
      concurrency: c.password,
      run: (s) =>
        httpLoad({
          url: `${baScrypt.ready.baseURL}/api/auth/sign-in/email`,
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: baScrypt.ready.baseURL },
          connections: c.password,
          durationInSeconds: s,
          perRequest: (n) => ({ body: signInBody(baScryptEmails?.[n % baScryptEmails.length] ?? '') }),
        }),
    },
    {
      name: 'scrypt_verify',
      group: 'password',
      what: 'raw better-auth scrypt verify (its default), separate node process',
      concurrency: c.password,
      run: (s) => hashWorker.call<LoopResult>('run', { algorithm: 'scrypt', concurrency: c.password, durationInMs: s * 1000 }),
    },
    // Group 2: refresh against the raw rotation transaction.
    {
      name: 'refresh',
      group: 'refresh',
      what: 'session.refresh over HTTP (anomaly checks, rotation, signing), one session per client',
      concurrency: c.refresh,
      prepare: async () => {
        // Fresh sessions every round, so rounds do not inherit longer token chains.
        refreshCookies = (await mapLimited(refreshUsers, 4, (user) => logIn(service, user))).map((session) => session.refreshCookie);
      },
      run: (s) => refreshLoad(service.trpcUrl, refreshCookies, s * 1000),
    },
    {
      name: 'rotation_txn',
      group: 'refresh',
      what: 'raw SELECT … FOR UPDATE, UPDATE, INSERT on refresh_tokens via mysql2, separate node process',
      concurrency: c.refresh,
      run: (s) => rotationWorker.call<LoopResult>('run', { concurrency: c.refresh, durationInMs: s * 1000 }),
    },
    // Group 3: cheap calls and the transports under them.
    {
      name: 'auth_me',
      group: 'calls',
      what: 'auth.me over HTTP with a cached access token (LRU hit, revocation check, user read)',
      concurrency: c.calls,
      run: (s) =>
        httpLoad({
          url: `${service.trpcUrl}/auth.me`,
          headers: { authorization: `Bearer ${token}`, 'user-agent': browserUserAgent, cookie: `iam_cid=${meUser.canary}` },
          connections: c.calls,
          durationInSeconds: s,
        }),
    },
    {
      name: 'noop',
      group: 'calls',
      what: 'system.ping over HTTP: the public procedure ladder, no work',
      concurrency: c.calls,
      run: (s) =>
        httpLoad({
          url: `${service.trpcUrl}/system.ping`,
          headers: { 'user-agent': browserUserAgent, cookie: `iam_cid=${meUser.canary}` },
          connections: c.calls,
          durationInSeconds: s,
        }),
    },
    {
      name: 'better_auth_get_session',
      group: 'calls',
      what: 'better-auth GET /get-session with its session cookie (defaults: no cookie cache)',
      concurrency: c.calls,
      run: (s) =>
        httpLoad({
          url: `${baScrypt.ready.baseURL}/api/auth/get-session`,
          headers: { cookie: baSession },
          connections: c.calls,
          durationInSeconds: s,
        }),
    },
    {
      name: 'bare_express',
      group: 'calls',
      what: 'bare express route answering the same JSON, separate node process',
      concurrency: c.calls,
      run: (s) =>
        httpLoad({
          url: `http://127.0.0.1:${bareExpress.ready.port}/trpc/system.ping`,
          connections: c.calls,
          durationInSeconds: s,
        }),
    },
    {
      name: 'bare_node_http',
      group: 'calls',
      what: 'bare node:http handler answering the same JSON, separate node process',
      concurrency: c.calls,
      run: (s) => httpLoad({ url: `http://127.0.0.1:${bareNode.ready.port}/trpc/system.ping`, connections: c.calls, durationInSeconds: s }),
    },
    // Group 4: in-process token verification.
    {
      name: 'verify_access_token',
      group: 'verify',
      what: 'library mode iam.verifyAccessToken(token) in this process, one caller',
      concurrency: 1,
      seconds: settings.verifySeconds,
      run: (s) => timedLoop({ concurrency: 1, durationInMs: s * 1000, recordLatency: false }, () => library.verifyAccessToken(token)),
    },
    {
      // No OpenTelemetry SDK in this process: the API's no-op tracer, as in a service without
      // OTEL_EXPORTER_OTLP_ENDPOINT. Beside verify_access_token (the cheapest in-process path:
      // the span's whole cost shows) and beside a procedure call, what an unused span costs.
      name: 'verify_in_untraced_span',
      group: 'verify',
      what: 'the same verifyAccessToken inside withSpan, tracing off (no-op API), one caller',
      concurrency: 1,
      seconds: settings.verifySeconds,
      run: (s) =>
        timedLoop({ concurrency: 1, durationInMs: s * 1000, recordLatency: false }, () =>
          withSpan('bench.verify', () => library.verifyAccessToken(token)),
        ),
    },
    {
      name: 'procedure_in_process',
      group: 'verify',
      what: 'system.ping through the in-process caller: the public procedure ladder, no HTTP, one caller',
      concurrency: 1,
      seconds: settings.verifySeconds,
      run: (s) => timedLoop({ concurrency: 1, durationInMs: s * 1000, recordLatency: false }, () => caller.system.ping()),
    },
    {
      name: 'procedure_in_untraced_span',
      group: 'verify',
      what: 'the same call inside withSpan, tracing off (no-op API), one caller',
      concurrency: 1,
      seconds: settings.verifySeconds,
      run: (s) =>
        timedLoop({ concurrency: 1, durationInMs: s * 1000, recordLatency: false }, () =>
          withSpan('bench.ping', () => caller.system.ping()),
        ),
    },
    {
      name: 'jose_verify',
      group: 'verify',
      what: 'raw jose jwtVerify of the same token with an imported key, one caller',
      concurrency: 1,
      seconds: settings.verifySeconds,
      run: (s) =>
        timedLoop({ concurrency: 1, durationInMs: s * 1000, recordLatency: false }, () =>
          jwtVerify(token, joseKey, { algorithms: ['EdDSA'] }),
        ),
    },
  ];

  // Warm-up: every target once, briefly, unrecorded (JIT, pools, caches).
  log('warming up');
  for (const target of targets) {
    await target.prepare?.();
    await target.run(settings.warmupSeconds);
  }

  const results = new Map<string, LoopResult[]>(targets.map((target) => [target.name, []]));
  const memory = sampleMemory(service.pid);
  const groups = [...new Set(targets.map((target) => target.group))];
  for (let round = 0; round < settings.rounds; round++) {
    for (const group of groups) {
      // A B C … then … C B A: each target follows each neighbour in turn.
      const members = targets.filter((target) => target.group === group);
      if (round % 2 === 1) members.reverse();
      for (const target of members) {
        await target.prepare?.();
        const result = await target.run(target.seconds ?? seconds);
        results.get(target.name)?.push(result);
        log(
          `round ${round + 1}/${settings.rounds} ${target.name.padEnd(28)} ${result.perSecond.toFixed(1).padStart(10)}/s` +
            (result.failed ? `  (${result.failed} failed: ${result.firstError})` : ''),
        );
      }
    }
  }
  const sampledPeakRssMb = memory.stop();
  const serviceMemory = memoryOf(service.pid);
  const databaseMemory = childrenOf(service.pid)
    .map((pid) => memoryOf(pid))
    .find((value) => value !== null);
  const peakOf = (child: Child<unknown>) => (child.process.pid ? (memoryOf(child.process.pid)?.peakRssMb ?? null) : null);
  const betterAuthPeakRssMb = { argon2id: peakOf(baArgon2), scrypt: peakOf(baScrypt) };

  // Growth, after the rounds: the library instance goes first, so the service alone sends statements.
  let growth: GrowthReport | undefined;
  if (settings.growth.enabled) {
    await closeLibrary();
    const templateRows = await populationTemplate(service.databaseUrl, template.userId);
    growth = await runGrowth({
      service,
      template: templateRows,
      sizes: settings.growth.sizes,
      rounds: settings.growth.rounds,
      seconds: settings.growth.secondsPerTarget,
      concurrency: c,
      loginAccounts: settings.signInAccounts,
      baselines: {
        refresh: {
          name: 'rotation_txn',
          run: (s) => rotationWorker.call<LoopResult>('run', { concurrency: c.refresh, durationInMs: s * 1000 }),
        },
        login: {
          name: 'argon2id_verify',
          run: (s) => hashWorker.call<LoopResult>('run', { algorithm: 'argon2id', concurrency: c.password, durationInMs: s * 1000 }),
        },
      },
      innoDbBytes: settings.growth.innoDbBytes,
      log,
    });
    growth.servicePeakRssMb = memoryOf(service.pid)?.peakRssMb ?? null;
  }

  const built = buildReport({
    settings: { ...settings, passwordHash: { argon2id: passwordHashOptions, scrypt: { N: 16_384, r: 16, p: 1, keyLength: 64 } } },
    machine: machineInfo(),
    targets,
    results,
    ratios: primaryRatios,
    secondaryRatios,
    memory: {
      peakRssMb: serviceMemory?.peakRssMb ?? sampledPeakRssMb,
      sampledPeakRssMb,
      databasePeakRssMb: databaseMemory?.peakRssMb ?? null,
      idleRssMb,
      idleAfterSignInRssMb,
      betterAuthPeakRssMb,
    },
    durationInSeconds: (performance.now() - startedAt) / 1000,
  });
  const report = { ...built, statements, ...(growth ? { growth } : {}), geo_memory: geoMemory };
  await mkdir(resultsDir, { recursive: true });
  await writeReport(report, resultsDir);
  printReport(report);
}

async function profileRun(): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  await profileService({
    repoRoot,
    work,
    resultsDir,
    config: serviceConfig,
    concurrency: settings.concurrency,
    seconds: Number(process.env.BENCH_PROFILE_SECONDS ?? 8),
    cleanups,
  });
}

async function createDatabases(adminUrl: string, names: string[]): Promise<string[]> {
  const connection = await mysql.createConnection({ uri: adminUrl });
  try {
    for (const name of names) {
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    }
  } finally {
    await connection.end();
  }
  return names.map((name) => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.href;
  });
}

/** The public key of the token's `kid`, from the service's JWKS, imported once. */
async function importedKeyFor(service: RunningService, token: string) {
  const { kid } = decodeProtectedHeader(token);
  const { keys } = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error(`kid ${kid} is not in the JWKS`);
  return importJWK(jwk, 'EdDSA');
}

/** Every target answers what it should before anything is timed. */
async function sanityChecks(opts: {
  service: RunningService;
  meUser: BenchUser;
  bareExpress: Child<{ port: number }>;
  bareNode: Child<{ port: number }>;
  library: IamServer;
  token: string;
  baSession: string;
  baScrypt: string;
}): Promise<void> {
  const me = await trpc(opts.service.trpcUrl, 'auth.me', { query: true, bearer: opts.token });
  if (me.status !== 200) throw new Error(`auth.me answered ${me.status}`);
  const ping = await (await fetch(`${opts.service.trpcUrl}/system.ping`)).text();
  for (const port of [opts.bareExpress.ready.port, opts.bareNode.ready.port]) {
    const bare = await (await fetch(`http://127.0.0.1:${port}/trpc/system.ping`)).text();
    if (bare !== ping) throw new Error(`the bare server answers ${bare}, the service ${ping}`);
  }
  const claims = await opts.library.verifyAccessToken(opts.token);
  if (!claims.sid) throw new Error('library verification returned no sid');
  const session = await fetch(`${opts.baScrypt}/api/auth/get-session`, { headers: { cookie: opts.baSession } });
  const sessionBody = (await session.json()) as { session?: { id?: string } } | null;
  if (!session.ok || !sessionBody?.session?.id) throw new Error(`better-auth get-session answered ${session.status}`);
}

function elapsed(): string {
  return `${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
}

function log(message: string): void {
  console.log(`[bench ${elapsed().padStart(7)}] ${message}`);
}
