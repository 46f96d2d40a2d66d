// `pnpm bench --scale`: refresh and password sign-in with 1, 2 and 3 service instances, each on
// its own node of a three-node MariaDB Galera cluster (instance i on node i), the load going
// round-robin over the instances; the same with one instance on a single MariaDB server, the
// baseline; and what a one-row statement and a small transaction cost on a Galera node against
// the single server. Every figure is also a ratio to a baseline of the same round, the targets
// of a group interleaved round by round (A B … then … B A). See README, Benchmarks, Scale-out.
//
//   pnpm bench --scale                                 3 rounds, 5 s per service target, 3 s per statement target
//   BENCH_ROUNDS=1 BENCH_SECONDS=2 BENCH_STATEMENT_SECONDS=1 pnpm bench --scale
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startTestDatabaseServer } from '../src/harness/database';
import { startGaleraCluster } from '../src/harness/galera';
import { type SeededAccount, seedServiceAccounts, serviceTemplate } from './lib/accounts';
import { browserUserAgent, dataOf, trpc } from './lib/http';
import { httpLoad, refreshLoad } from './lib/load';
import type { LoopResult } from './lib/loop';
import { machineInfo } from './lib/report';
import {
  buildScaleReport,
  type RunExtras,
  type ScaleRatioSpec,
  type ScaleTarget,
  scaleMarkdown,
  writeScaleReport,
} from './lib/scaleReport';
import { combineResults, instanceGroup, startInstance } from './lib/scaleService';
import { prepareStatementTable, type StatementKind, statementLoop, wsrepConflicts } from './lib/scaleStatements';
import { benchPassword, logIn, mapLimited, signUp } from './lib/seed';
import type { RunningService } from './lib/service';
import { serviceConfig } from './lib/serviceConfig';

const benchDir = import.meta.dirname;
const repoRoot = path.resolve(benchDir, '../..');
const resultsDir = path.join(benchDir, 'results');

const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  secondsPerTarget: Number(process.env.BENCH_SECONDS ?? 5),
  statementSeconds: Number(process.env.BENCH_STATEMENT_SECONDS ?? 3),
  warmupSeconds: 1,
  /** Accounts the sign-in targets go round-robin over, on each backend (seeded in SQL). */
  signInAccounts: Number(process.env.BENCH_SIGNIN_ACCOUNTS ?? 1000),
  concurrency: {
    /** Password sign-ins in flight, in all (a multiple of 1, 2 and 3: the same on every instance). */
    login: 6,
    /** Sessions refreshing at once, in all. */
    refresh: 12,
    /** Statement workers when measuring throughput (and 1 for latency). */
    statements: 8,
    /** Workers on one shared row, spread over the nodes on Galera. */
    hotRow: 6,
  },
  galeraNodes: 3,
};

const note =
  'All of it runs on one machine: the three Galera nodes, the single server, the service instances and the load generator share ' +
  `its ${machineInfo().nproc} cores. More instances cannot add CPU here, so the figures for 2 and 3 instances show what ` +
  'coordination costs (replication, certification, one more process to schedule), not the capacity of a real cluster. ' +
  'Idle instances keep running while the others are measured; they receive no load.';

type Log = (message: string) => void;

export async function runScale(): Promise<number> {
  const startedAt = performance.now();
  const elapsed = () => `${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
  const log: Log = (message) => console.log(`[scale ${elapsed().padStart(7)}] ${message}`);
  const work = await mkdtemp(path.join(tmpdir(), 'iam-bench-scale-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error('cleanup:', error));
    await rm(work, { recursive: true, force: true });
  };
  // Interrupted: the databases and instances go too, then the exit.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the instances and databases`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let exitCode = 0;
  try {
    await scaleRun({ work, cleanups, log, startedAt });
  } catch (error) {
    exitCode = 1;
    console.error(error);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  console.log(`\nscale bench finished in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  return exitCode;
}

async function scaleRun(ctx: { work: string; cleanups: Array<() => Promise<unknown>>; log: Log; startedAt: number }): Promise<void> {
  const { work, cleanups, log } = ctx;
  const elapsed = () => `${((performance.now() - ctx.startedAt) / 1000).toFixed(1)} s`;
  const c = settings.concurrency;
  // The compiled service, as `pnpm start` runs it: built first when missing or stale.
  execFileSync(process.execPath, ['server/build/ensureBuilt.mjs'], { cwd: repoRoot, stdio: 'inherit' });

  log('starting a three-node Galera cluster and a single MariaDB server');
  const [clusterOutcome, singleOutcome] = await Promise.allSettled([
    startGaleraCluster({ size: settings.galeraNodes, log: (line) => log(`galera: ${line}`) }),
    startTestDatabaseServer(),
  ]);
  if (clusterOutcome.status === 'fulfilled') cleanups.push(() => clusterOutcome.value.stop());
  if (singleOutcome.status === 'fulfilled') cleanups.push(() => singleOutcome.value.stop());
  if (clusterOutcome.status === 'rejected') throw clusterOutcome.reason;
  if (singleOutcome.status === 'rejected') throw singleOutcome.reason;
  const cluster = clusterOutcome.value;
  const single = singleOutcome.value;
  const nodeAdminUrls = cluster.nodes.map((node) => node.adminUrl);
  const firstNodeAdminUrl = nodeAdminUrls[0] as string;

  // `iam` is created on node 1 and replicates; the first instance migrates it. The embedded
  // server has its `iam` already.
  const connection = await mysql.createConnection({ uri: firstNodeAdminUrl });
  try {
    await connection.query('CREATE DATABASE IF NOT EXISTS `iam` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
  } finally {
    await connection.end();
  }
  await Promise.all([prepareStatementTable(firstNodeAdminUrl), prepareStatementTable(single.adminUrl)]);
  log(`databases ready after ${elapsed()}`);

  // The instances: one on the single server; three on the cluster, instance i on node i. The
  // first of each migrates and takes the template sign-up (its mail lands in its own outbox)
  // before the others start.
  const singleGroup = await instanceGroup();
  const galeraGroup = await instanceGroup();
  const start = async (group: typeof singleGroup, index: number, databaseUrl: string, adminUrl: string, name: string) => {
    const instance = await startInstance({ group, index, databaseUrl, adminUrl, dataDir: path.join(work, name), config: serviceConfig });
    cleanups.push(() => instance.stop());
    return instance;
  };
  const [singleInstance, firstGalera] = await Promise.all([
    start(singleGroup, 0, single.url, single.adminUrl, 'single-1'),
    start(galeraGroup, 0, cluster.urlOf(0, 'iam'), firstNodeAdminUrl, 'galera-1'),
  ]);
  const templateEmail = 'template@bench.test';
  await Promise.all([signUp(singleInstance, templateEmail), signUp(firstGalera, templateEmail)]);
  const moreGalera = await Promise.all(
    [1, 2].map((index) => start(galeraGroup, index, cluster.urlOf(index, 'iam'), nodeAdminUrls[index] as string, `galera-${index + 1}`)),
  );
  const galera = [firstGalera, ...moreGalera];
  log(`instances ready after ${elapsed()}: single ${singleInstance.url}; Galera ${galera.map((one) => one.url).join(', ')}`);

  // Accounts, copies of each backend's template written in SQL (on Galera through node 1): the
  // sign-in accounts, and for every refresh target sessions of its own.
  const configs = [
    { name: 'single_1', backend: 'single' as const, instances: [singleInstance] },
    ...[1, 2, 3].map((k) => ({ name: `galera_${k}`, backend: 'galera' as const, instances: galera.slice(0, k) })),
  ];
  const databaseUrlOf = { single: single.url, galera: cluster.urlOf(0, 'iam') };
  const loginAccounts: Record<'single' | 'galera', SeededAccount[]> = { single: [], galera: [] };
  const refreshAccounts = new Map<string, SeededAccount[]>();
  for (const backend of ['single', 'galera'] as const) {
    const template = await serviceTemplate(databaseUrlOf[backend], templateEmail);
    loginAccounts[backend] = await seedServiceAccounts(databaseUrlOf[backend], template, {
      prefix: 'login',
      count: settings.signInAccounts,
    });
    for (const config of configs.filter((one) => one.backend === backend)) {
      refreshAccounts.set(
        config.name,
        await seedServiceAccounts(databaseUrlOf[backend], template, { prefix: `refresh-${config.name}`, count: c.refresh }),
      );
    }
  }
  log(`accounts seeded after ${elapsed()}`);

  await sanityChecks({ singleInstance, galera, loginAccounts });
  log('every instance signs a seeded account in; a Galera session refreshes on every instance in turn');

  const jsonHeaders = { 'content-type': 'application/json', 'user-agent': browserUserAgent };
  const nextLogin = { single: 0, galera: 0 };
  const targets: ScaleTarget[] = [];
  for (const config of configs) {
    const k = config.instances.length;
    const where = config.backend === 'galera' ? `Galera, instance i on node i` : 'the single server';
    let cookies: string[] = [];
    targets.push({
      name: `refresh_${config.name}`,
      group: 'refresh',
      backend: config.backend,
      instances: k,
      what:
        `session.refresh over HTTP, ${c.refresh} sessions in all, session j signed in on and refreshed by instance j mod ${k} ` +
        `(${where}), fresh sessions every round`,
      concurrency: c.refresh,
      prepare: async () => {
        const accounts = refreshAccounts.get(config.name) ?? [];
        const sessions = await mapLimited(
          accounts.map((account, j) => ({ account, instance: config.instances[j % k] as RunningService })),
          4,
          ({ account, instance }) =>
            logIn(instance, { email: account.email, password: benchPassword, canary: account.canary, accessToken: '' }),
        );
        cookies = sessions.map((session) => session.refreshCookie);
      },
      run: async (seconds) =>
        combineResults(
          await Promise.all(
            config.instances.map((instance, i) =>
              refreshLoad(
                instance.trpcUrl,
                cookies.filter((_, j) => j % k === i),
                seconds * 1000,
              ),
            ),
          ),
        ),
    });
  }
  for (const config of configs) {
    const k = config.instances.length;
    const accounts = loginAccounts[config.backend];
    targets.push({
      name: `login_${config.name}`,
      group: 'login',
      backend: config.backend,
      instances: k,
      what:
        `auth.login over HTTP, ${c.login} connections in all, ${c.login / k} to each of ${k} instance(s) ` +
        `(${config.backend === 'galera' ? 'Galera, instance i on node i' : 'the single server'}), ` +
        `${accounts.length} seeded accounts taken round-robin across all of them, each from its own trusted device`,
      concurrency: c.login,
      run: async (seconds) =>
        combineResults(
          await Promise.all(
            config.instances.map((instance) =>
              httpLoad({
                url: `${instance.trpcUrl}/auth.login`,
                method: 'POST',
                headers: jsonHeaders,
                connections: c.login / k,
                durationInSeconds: seconds,
                perRequest: () => {
                  const account = accounts[nextLogin[config.backend]++ % accounts.length] as SeededAccount;
                  return {
                    body: JSON.stringify({ json: { email: account.email, password: benchPassword } }),
                    headers: { cookie: `iam_cid=${account.canary}` },
                  };
                },
              }),
            ),
          ),
        ),
    });
  }

  // Statements: the same loop against node 1 of the cluster and against the single server.
  const extrasOf = new Map<string, RunExtras>();
  const statementTarget = (
    kind: StatementKind,
    concurrency: number,
    backend: 'single' | 'galera',
    shape: { group: string; what: string; spread?: boolean; sharedKey?: boolean },
  ): ScaleTarget => {
    const name = `${shape.group}_${backend}`;
    const adminUrls = backend === 'single' ? [single.adminUrl] : shape.spread ? nodeAdminUrls : [firstNodeAdminUrl];
    return {
      name,
      group: shape.group,
      backend,
      statement: { kind, concurrency },
      what: `${shape.what}; ${backend === 'single' ? 'the single server' : shape.spread ? 'Galera, the workers on the 3 nodes in turn' : 'Galera node 1'}`,
      concurrency,
      seconds: settings.statementSeconds,
      run: async (seconds) => {
        const result = await statementLoop({ kind, adminUrls, concurrency, seconds, rowPrefix: name, sharedKey: shape.sharedKey ?? false });
        extrasOf.set(name, { retries: result.retries });
        return result;
      },
    };
  };
  const odku = 'one-row autocommit INSERT … ON DUPLICATE KEY UPDATE';
  const txn = 'BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT on one row';
  const statementShapes: Array<{
    kind: StatementKind;
    concurrency: number;
    group: string;
    what: string;
    spread?: boolean;
    sharedKey?: boolean;
  }> = [
    { kind: 'odku', concurrency: 1, group: 'odku_c1', what: `${odku}, one connection` },
    { kind: 'txn', concurrency: 1, group: 'txn_c1', what: `${txn}, one connection` },
    { kind: 'odku', concurrency: c.statements, group: `odku_c${c.statements}`, what: `${odku}, ${c.statements} connections, a row each` },
    { kind: 'txn', concurrency: c.statements, group: `txn_c${c.statements}`, what: `${txn}, ${c.statements} connections, a row each` },
    {
      kind: 'odku',
      concurrency: c.hotRow,
      group: `odku_hot_c${c.hotRow}`,
      what: `${odku}, ${c.hotRow} connections on one shared row (a rate-limit key every instance hits)`,
      spread: true,
      sharedKey: true,
    },
  ];
  for (const shape of statementShapes) {
    for (const backend of ['single', 'galera'] as const) targets.push(statementTarget(shape.kind, shape.concurrency, backend, shape));
  }

  const ratios: ScaleRatioSpec[] = [
    ...['refresh', 'login'].flatMap((operation) => [
      ...[1, 2, 3].map((k) => ({
        key: `${operation}_galera_${k}_vs_single`,
        target: `${operation}_galera_${k}`,
        baseline: `${operation}_single_1`,
        measure: 'throughput' as const,
      })),
      ...[2, 3].map((k) => ({
        key: `${operation}_galera_${k}_vs_galera_1`,
        target: `${operation}_galera_${k}`,
        baseline: `${operation}_galera_1`,
        measure: 'throughput' as const,
      })),
    ]),
    ...statementShapes.flatMap((shape) => [
      {
        key: `${shape.group}_galera_vs_single`,
        target: `${shape.group}_galera`,
        baseline: `${shape.group}_single`,
        measure: 'throughput' as const,
      },
      {
        key: `${shape.group}_galera_vs_single_p50`,
        target: `${shape.group}_galera`,
        baseline: `${shape.group}_single`,
        measure: 'p50' as const,
      },
    ]),
  ];

  // Galera's conflict counters, read on every node around each Galera run.
  const conflicts = async () => {
    const counts = await Promise.all(nodeAdminUrls.map((url) => wsrepConflicts(url)));
    return counts.reduce((sum, one) => ({ certFailures: sum.certFailures + one.certFailures, bfAborts: sum.bfAborts + one.bfAborts }));
  };
  const runOnce = async (target: ScaleTarget, seconds: number) => {
    await target.prepare?.();
    const before = target.backend === 'galera' ? await conflicts() : null;
    const result = await target.run(seconds);
    const after = before ? await conflicts() : null;
    const extras: RunExtras = {
      ...extrasOf.get(target.name),
      ...(before && after ? { certFailures: after.certFailures - before.certFailures, bfAborts: after.bfAborts - before.bfAborts } : {}),
    };
    extrasOf.delete(target.name);
    return { result, extras };
  };

  log('warming up');
  for (const target of targets) await runOnce(target, settings.warmupSeconds);

  const results = new Map<string, LoopResult[]>(targets.map((target) => [target.name, []]));
  const extras = new Map<string, RunExtras[]>(targets.map((target) => [target.name, []]));
  const groups = [...new Set(targets.map((target) => target.group))];
  for (let round = 0; round < settings.rounds; round++) {
    for (const group of groups) {
      // A B C … then … C B A: each target follows each neighbour in turn.
      const members = targets.filter((target) => target.group === group);
      if (round % 2 === 1) members.reverse();
      for (const target of members) {
        const { result, extras: more } = await runOnce(target, target.seconds ?? settings.secondsPerTarget);
        results.get(target.name)?.push(result);
        extras.get(target.name)?.push(more);
        const conflictNote = more.certFailures ? `, ${more.certFailures} cert. failures` : '';
        const retryNote = more.retries ? `, ${more.retries} retries` : '';
        log(
          `round ${round + 1}/${settings.rounds} ${target.name.padEnd(22)} ${result.perSecond.toFixed(1).padStart(9)}/s` +
            `  p50 ${result.latencyMs?.p50.toFixed(2) ?? '—'} ms${conflictNote}${retryNote}` +
            (result.failed ? `  (${result.failed} failed: ${result.firstError})` : ''),
        );
      }
    }
  }

  const report = buildScaleReport({
    settings,
    machine: machineInfo(),
    note,
    targets,
    results,
    extras,
    ratios,
    durationInSeconds: (performance.now() - ctx.startedAt) / 1000,
  });
  await mkdir(resultsDir, { recursive: true });
  await writeScaleReport(report, resultsDir);
  console.log(`\n${scaleMarkdown(report)}`);
  console.log('written to test/bench/results/scale.json and scale.md');
}

/**
 * Before anything is timed: a seeded account signs in on every instance, and on Galera a
 * session signed in on instance 1 refreshes on instance 2, then on 3, its access token accepted
 * by every instance (one secret, one PUBLIC_URL).
 */
async function sanityChecks(opts: {
  singleInstance: RunningService;
  galera: RunningService[];
  loginAccounts: Record<'single' | 'galera', SeededAccount[]>;
}): Promise<void> {
  const asUser = (account: SeededAccount) => ({ email: account.email, password: benchPassword, canary: account.canary, accessToken: '' });
  const lastSingle = opts.loginAccounts.single.at(-1);
  if (!lastSingle) throw new Error('no seeded accounts');
  await logIn(opts.singleInstance, asUser(lastSingle));
  for (const [i, instance] of opts.galera.entries()) {
    const account = opts.loginAccounts.galera.at(-1 - i);
    if (!account) throw new Error('no seeded accounts');
    await logIn(instance, asUser(account));
  }
  const account = opts.loginAccounts.galera[0];
  const [first, ...others] = opts.galera;
  if (!account || !first) throw new Error('no Galera instance');
  const session = await logIn(first, asUser(account));
  let cookie = session.refreshCookie;
  for (const instance of others) {
    const me = await trpc(instance.trpcUrl, 'auth.me', { query: true, bearer: session.accessToken, cookie: `iam_cid=${account.canary}` });
    if (me.status !== 200) throw new Error(`${instance.url} refuses instance 1's access token: ${me.status}`);
    const refreshed = await trpc(instance.trpcUrl, 'session.refresh', { cookie });
    const data = dataOf<{ status: string }>('session.refresh', refreshed);
    const token = refreshed.cookies.get('iam_rt');
    if (data.status !== 'authenticated' || !token) throw new Error(`${instance.url} did not refresh instance 1's session: ${data.status}`);
    cookie = `iam_rt=${token}; iam_cid=${account.canary}`;
  }
}
