// The growth phase: refresh/s and login/s with 10⁴, 10⁵ and 10⁶ sessions already in the
// service's tables (lib/population.ts), and how MariaDB runs the hot statements at the largest
// size (EXPLAIN of what one refresh and one login sent, from the general log). It runs after
// the main rounds, on the same service, and touches nothing they measured.
import mysql from 'mysql2/promise';
import type { SeededAccount } from './accounts';
import { browserUserAgent, dataOf, trpc } from './http';
import { httpLoad, refreshLoad } from './load';
import type { LoopResult } from './loop';
import { growPopulation, newPopulation, type PopulationTemplate, populationAccount, sessionsPerUser, withLargerInnoDb } from './population';
import { benchPassword, logIn, mapLimited } from './seed';
import type { RunningService } from './service';
import { explainStatements, type QueryPlan, sampleStatements } from './statements';
import { median, minMax, round } from './stats';

export interface GrowthSize {
  sessions: number;
  /** Rows in the service's tables at this size (the population and everything the run wrote). */
  tableRows: Record<string, number>;
  /** How long seeding up to this size took. */
  seedSeconds: number;
  refresh: GrowthTarget;
  login: GrowthTarget;
}

export interface GrowthTarget {
  median: number;
  perRound: number[];
  failed: number;
  /** Over its baseline of the same round (refresh / rotation_txn, login / argon2id_verify), which the machine's load moves alike. */
  vsBaseline: { baseline: string; median: number; perRound: number[] } | null;
}

export interface GrowthReport {
  what: string;
  rounds: number;
  secondsPerTarget: number;
  sizes: GrowthSize[];
  /**
   * Per target, the largest median ops/s over the smallest: 1 means no slower with more rows.
   * `baselineMaxOverMin`: the same of the ratios to the baseline, less moved by the machine's load.
   */
  ratios: Record<'refresh' | 'login', { maxOverMin: number; baselineMaxOverMin: number | null; goal: string; meetsGoal: boolean }>;
  /** At the largest size: each hot SELECT, UPDATE and DELETE of one refresh and one login, with its plan. */
  plans: Record<'refresh' | 'login', QueryPlan[]>;
  /** Statements of those plans that read a table or an index whole. */
  fullScans: string[];
  /** The service's VmHWM once the growth phase is over (the main rounds' peak is `memory.peak_rss_mb`). */
  servicePeakRssMb?: number | null;
}

const maxOverMinGoal = 1.2;

export function runGrowth(opts: Parameters<typeof measureGrowth>[0]): Promise<GrowthReport> {
  return withLargerInnoDb(opts.service.adminUrl, opts.innoDbBytes, () => measureGrowth(opts));
}

async function measureGrowth(opts: {
  service: RunningService;
  template: PopulationTemplate;
  sizes: number[];
  rounds: number;
  seconds: number;
  concurrency: { password: number; refresh: number };
  /** Accounts signed in per size (round-robin over them); at most the population's users. */
  loginAccounts: number;
  /** Run next to each target every round: the database's own rotation, the bare hash. */
  baselines?: Record<'refresh' | 'login', { name: string; run(seconds: number): Promise<LoopResult> }>;
  /** InnoDB's buffer pool and redo log for the whole phase (given back at its end). */
  innoDbBytes: number;
  log(message: string): void;
}): Promise<GrowthReport> {
  const { service } = opts;
  const population = newPopulation();
  const sizes: GrowthSize[] = [];
  let plans: GrowthReport['plans'] = { refresh: [], login: [] };
  const headers = { 'content-type': 'application/json', 'user-agent': browserUserAgent };
  let nextRefreshUser = 0;

  for (const [index, size] of opts.sizes.entries()) {
    const seedStartedAt = performance.now();
    await growPopulation(service.databaseUrl, opts.template, population, size);
    const seedSeconds = (performance.now() - seedStartedAt) / 1000;
    opts.log(
      `growth: ${size} sessions seeded in ${seedSeconds.toFixed(1)} s (${JSON.stringify(population.tableRows)}; ${JSON.stringify(population.stepSeconds)})`,
    );
    const users = size / sessionsPerUser;
    const accountCount = Math.min(opts.loginAccounts, users);
    // Spread over the whole population, old rows and new.
    const accounts = Array.from({ length: accountCount }, (_, i) =>
      populationAccount(population, 1 + Math.floor((i * users) / accountCount)),
    );
    // Refreshing sessions of population users, opened fresh each round (users not signed in by the login target).
    const refreshUser = (): SeededAccount => populationAccount(population, users - (nextRefreshUser++ % Math.max(1, users - 1)));
    const openSessions = () =>
      mapLimited(
        Array.from({ length: opts.concurrency.refresh }, () => refreshUser()),
        4,
        async (account) =>
          (await logIn(service, { email: account.email, password: benchPassword, canary: account.canary, accessToken: '' })).refreshCookie,
      );
    const login = (seconds: number) =>
      httpLoad({
        url: `${service.trpcUrl}/auth.login`,
        method: 'POST',
        headers,
        connections: opts.concurrency.password,
        durationInSeconds: seconds,
        perRequest: (n) => {
          const account = accounts[n % accounts.length] as SeededAccount;
          return {
            body: JSON.stringify({ json: { email: account.email, password: benchPassword } }),
            headers: { cookie: `iam_cid=${account.canary}` },
          };
        },
      });

    // Warm the new rows' pages a little, as the main rounds' warm-up does.
    await refreshLoad(service.trpcUrl, await openSessions(), 1_000);
    await login(1);
    const results: Record<'refresh' | 'login', LoopResult[]> = { refresh: [], login: [] };
    const baselineResults: Record<'refresh' | 'login', LoopResult[]> = { refresh: [], login: [] };
    for (let round = 0; round < opts.rounds; round++) {
      const order: Array<'refresh' | 'login'> = round % 2 === 0 ? ['refresh', 'login'] : ['login', 'refresh'];
      for (const target of order) {
        // Target then baseline, and the other way round the next round (as the main rounds alternate).
        const baseline = opts.baselines?.[target];
        const runTarget = async () => {
          const result =
            target === 'refresh'
              ? await refreshLoad(service.trpcUrl, await openSessions(), opts.seconds * 1000)
              : await login(opts.seconds);
          results[target].push(result);
          report(target, result);
        };
        const runBaseline = async () => {
          if (!baseline) return;
          const result = await baseline.run(opts.seconds);
          baselineResults[target].push(result);
          report(baseline.name, result);
        };
        const report = (name: string, result: LoopResult) =>
          opts.log(
            `growth ${size} round ${round + 1}/${opts.rounds} ${name.padEnd(16)} ${result.perSecond.toFixed(1).padStart(8)}/s` +
              (result.failed ? `  (${result.failed} failed: ${result.firstError})` : ''),
          );
        if (round % 2 === 0) {
          await runTarget();
          await runBaseline();
        } else {
          await runBaseline();
          await runTarget();
        }
      }
    }
    const summary = (target: 'refresh' | 'login'): GrowthTarget => {
      const runs = results[target];
      const baselineRuns = baselineResults[target];
      const ratios = runs.map((run, i) => run.perSecond / (baselineRuns[i]?.perSecond ?? Number.NaN));
      return {
        median: round(median(runs.map((run) => run.perSecond))),
        perRound: runs.map((run) => round(run.perSecond)),
        failed: runs.reduce((sum, run) => sum + run.failed, 0),
        vsBaseline:
          opts.baselines && baselineRuns.length === runs.length
            ? { baseline: opts.baselines[target].name, median: round(median(ratios)), perRound: ratios.map((ratio) => round(ratio)) }
            : null,
      };
    };
    sizes.push({
      sessions: size,
      tableRows: { ...population.tableRows },
      seedSeconds: round(seedSeconds),
      refresh: summary('refresh'),
      login: summary('login'),
    });

    if (index === opts.sizes.length - 1) plans = await hotPlans(service, population, accounts, openSessions);
  }

  const ratioOf = (target: 'refresh' | 'login') => {
    const spread = (values: number[]) => {
      const { min, max } = minMax(values);
      return round(max / min);
    };
    const maxOverMin = spread(sizes.map((size) => size[target].median));
    const normalised = sizes.map((size) => size[target].vsBaseline?.median ?? null);
    const baselineMaxOverMin = normalised.every((value) => value !== null) ? spread(normalised as number[]) : null;
    return { maxOverMin, baselineMaxOverMin, goal: `<= ${maxOverMinGoal}`, meetsGoal: maxOverMin <= maxOverMinGoal };
  };
  return {
    what:
      `refresh/s and login/s with ${opts.sizes.join(', ')} sessions in the tables (${sessionsPerUser} per user over 2 devices; ` +
      'of every 10, 6 live with 2 refresh-token generations, 2 expired and 2 revoked within the last day; seeded in SQL ' +
      `with InnoDB's buffer pool and redo log at ${opts.innoDbBytes / 1024 ** 2} MiB for the whole phase), ` +
      `${opts.rounds} rounds of ${opts.seconds} s per size, each target next to its baseline, the same concurrency as the main rounds; ` +
      `sign-ins round-robin over ${opts.loginAccounts} of the population's accounts, refreshes on sessions opened for other population users`,
    rounds: opts.rounds,
    secondsPerTarget: opts.seconds,
    sizes,
    ratios: { refresh: ratioOf('refresh'), login: ratioOf('login') },
    plans,
    fullScans: [...plans.refresh, ...plans.login].filter((plan) => plan.fullScan).map((plan) => plan.statement),
  };
}

/** One refresh and one login at the largest size, through the general log, and EXPLAIN of each statement they sent. */
async function hotPlans(
  service: RunningService,
  population: ReturnType<typeof newPopulation>,
  accounts: SeededAccount[],
  openSessions: () => Promise<string[]>,
): Promise<GrowthReport['plans']> {
  const [cookie] = await openSessions();
  const account = accounts[Math.floor(accounts.length / 2)] ?? populationAccount(population, 1);
  const admin = await mysql.createConnection({ uri: service.adminUrl, timezone: 'Z' });
  const database = await mysql.createConnection({ uri: service.databaseUrl, timezone: 'Z' });
  try {
    const sampled = await sampleStatements(admin, [
      {
        name: 'refresh',
        run: async () => {
          const refreshed = await trpc(service.trpcUrl, 'session.refresh', { cookie: cookie ?? '' });
          if (dataOf<{ status: string }>('session.refresh', refreshed).status !== 'authenticated')
            throw new Error('the sampled refresh did not rotate');
        },
      },
      {
        name: 'login',
        run: () => logIn(service, { email: account.email, password: benchPassword, canary: account.canary, accessToken: '' }),
      },
    ]);
    return {
      refresh: await explainStatements(database, sampled.refresh?.statements ?? []),
      login: await explainStatements(database, sampled.login?.statements ?? []),
    };
  } finally {
    await admin.end();
    await database.end();
  }
}
