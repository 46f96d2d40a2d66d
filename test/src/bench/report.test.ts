import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GrowthReport } from '../../bench/lib/growth';
import type { LoopResult } from '../../bench/lib/loop';
import { primaryRatios, secondaryRatios } from '../../bench/lib/ratios';
import { buildReport, markdown, type Report, type TargetSpec } from '../../bench/lib/report';
import { elideLiterals, type StatementCount } from '../../bench/lib/statements';

// Structure only: `pnpm bench` is never run here and no figure is judged (no timing assertions).
const requiredRatios: Record<string, { target: string; baseline: string; goal: string }> = {
  refresh_vs_noop: { target: 'refresh', baseline: 'noop', goal: '>= 0.5' },
  refresh_vs_txn: { target: 'refresh', baseline: 'rotation_txn', goal: '>= 0.25' },
  login_vs_argon2: { target: 'login', baseline: 'argon2id_verify', goal: '>= 0.9' },
  authed_vs_noop: { target: 'auth_me', baseline: 'noop', goal: '>= 0.85' },
  noop_vs_express: { target: 'noop', baseline: 'bare_express', goal: '>= 0.3' },
  signin_vs_better_auth: { target: 'login', baseline: 'better_auth_signin_argon2id', goal: '>= 1.1' },
  session_vs_better_auth: { target: 'auth_me', baseline: 'better_auth_get_session', goal: '>= 2' },
  verify_vs_jose: { target: 'verify_access_token', baseline: 'jose_verify', goal: '>= 5' },
};
const countedOperations = ['noop', 'auth_me', 'refresh', 'login', 'signup'];

function statementCount(statements: number, goalMax?: number): StatementCount {
  return {
    what: 'synthetic',
    calls: 50,
    windowSeconds: 1,
    statements,
    perCall: { select: 1, insert: 1, update: 1, delete: 0, begin: 1, commit: 1 },
    backgroundPerSecond: 2,
    goal: goalMax === undefined ? null : `<= ${goalMax}`,
    meetsGoal: goalMax === undefined ? null : statements <= goalMax,
    sample: ['select `id` from `sessions` where `id` = ?'],
  };
}

function syntheticGrowth(): GrowthReport {
  const size = (sessions: number, refresh: number, login: number) => ({
    sessions,
    tableRows: { users: sessions / 10, sessions, refresh_tokens: sessions * 1.6 },
    seedSeconds: 1,
    refresh: {
      median: refresh,
      perRound: [refresh, refresh],
      failed: 0,
      vsBaseline: { baseline: 'rotation_txn', median: 0.1, perRound: [0.1, 0.1] },
    },
    login: { median: login, perRound: [login, login], failed: 0, vsBaseline: null },
  });
  return {
    what: 'synthetic',
    rounds: 2,
    secondsPerTarget: 4,
    sizes: [size(10_000, 100, 40), size(100_000, 95, 40), size(1_000_000, 80, 39)],
    ratios: {
      refresh: { maxOverMin: 1.25, baselineMaxOverMin: 1.1, goal: '<= 1.2', meetsGoal: false },
      login: { maxOverMin: 1.03, baselineMaxOverMin: null, goal: '<= 1.2', meetsGoal: true },
    },
    plans: {
      refresh: [
        {
          statement: 'select … from `refresh_tokens` where `token_hash` = ?',
          tables: [{ table: 'refresh_tokens', type: 'const', key: 'refresh_tokens_hash_uq', rows: 1, extra: null }],
          fullScan: false,
        },
      ],
      login: [],
    },
    fullScans: [],
  };
}

function syntheticReport(): Report {
  const names = [...new Set([...primaryRatios, ...secondaryRatios].flatMap((ratio) => [ratio.target, ratio.baseline]))];
  const targets: TargetSpec[] = names.map((name) => ({
    name,
    group: 'g',
    what: name,
    concurrency: 1,
    run: async () => ({ ok: 0, failed: 0, durationInSeconds: 1, perSecond: 0 }),
  }));
  const run = (perSecond: number): LoopResult => ({
    ok: perSecond,
    failed: 0,
    durationInSeconds: 1,
    perSecond,
    latencyMs: { p50: 1, p99: 2, max: 3 },
  });
  const results = new Map(names.map((name, i) => [name, [run(10 + i), run(20 + i), run(30 + i)]]));
  return buildReport({
    settings: { rounds: 3 },
    machine: { nproc: 2, cpuModel: 'test', node: process.version, os: 'test', memoryGb: 1 },
    targets,
    results,
    ratios: primaryRatios,
    secondaryRatios,
    memory: {
      peakRssMb: 100,
      sampledPeakRssMb: 90,
      databasePeakRssMb: null,
      idleRssMb: 160,
      idleAfterSignInRssMb: 170,
      betterAuthPeakRssMb: { argon2id: 120, scrypt: 130 },
    },
    durationInSeconds: 1,
  });
}

function expectReportShape(report: Report): void {
  expect(Object.keys(report.ratios).sort()).toEqual(Object.keys(requiredRatios).sort());
  for (const value of Object.values(report.ratios)) expect(typeof value).toBe('number');
  for (const [key, spec] of Object.entries(requiredRatios)) {
    const detail = report.ratio_details[key];
    expect(detail).toMatchObject(spec);
    expect(detail?.perRound.length).toBeGreaterThan(0);
    expect(report.targets[spec.target]).toBeDefined();
    expect(report.targets[spec.baseline]).toBeDefined();
  }
  for (const target of Object.values(report.targets)) {
    expect(target).toMatchObject({ median: expect.any(Number), min: expect.any(Number), max: expect.any(Number) });
    expect(target.perRound.length).toBeGreaterThan(0);
  }
  expect(typeof report.peak_rss_mb).toBe('number');
  expect(report.memory).toMatchObject({
    peak_rss_mb: report.peak_rss_mb,
    goal: '<= 250',
    idle_rss_mb: expect.any(Number),
    idle_goal: '<= 150',
    idle_rss_after_signin_mb: expect.any(Number),
    better_auth_peak_rss_mb: { argon2id: expect.any(Number), scrypt: expect.any(Number) },
  });
  expect(report.idle_rss_mb).toBe(report.memory.idle_rss_mb);
}

/** The statement counts and the growth phase, as `pnpm bench` writes them (growth may be skipped). */
function expectMeasuredShape(report: Report): void {
  const statements = report.statements ?? {};
  for (const name of countedOperations)
    expect(statements[name]).toMatchObject({ statements: expect.any(Number), calls: expect.any(Number) });
  expect(statements.refresh?.goal).toBe('<= 6');
  expect(statements.login?.goal).toBe('<= 10');
  for (const name of ['refresh', 'login']) expect(statements[name]?.sample?.length).toBeGreaterThan(0);
  if (!report.growth) return;
  expect(report.growth.sizes.map((size) => size.sessions)).toEqual([10_000, 100_000, 1_000_000]);
  for (const size of report.growth.sizes) {
    expect(size.refresh.median).toEqual(expect.any(Number));
    expect(size.login.median).toEqual(expect.any(Number));
  }
  for (const name of ['refresh', 'login'] as const)
    expect(report.growth.ratios[name]).toMatchObject({ maxOverMin: expect.any(Number), goal: '<= 1.2' });
  expect(report.growth.plans.refresh.length).toBeGreaterThan(0);
  for (const plan of [...report.growth.plans.refresh, ...report.growth.plans.login]) expect(plan.tables.length).toBeGreaterThan(0);
}

describe('pnpm bench results', () => {
  it('report the performance goals’ ratios by exactly their keys and goals, memory beside them, per-target medians, ranges and latencies', () => {
    const report = syntheticReport();
    expectReportShape(report);
    expect(report.targets.login?.latencyMs).toEqual({ p50: 1, p99: 2 });
    const text = markdown(report);
    expect(text).toContain('| refresh_vs_noop (refresh / noop) |');
    expect(text).toContain('| noop_vs_express (noop / bare_express) |');
    expect(text).toContain('| idle_rss_mb (service, VmRSS idle after start) | 160 | — | <= 150 | **no** |');
    expect(text).toContain('| better-auth peak, scrypt process (VmHWM) | 130 |');
  });

  it('show statements per call with their goals and samples, and growth per size with its ratios and plans', () => {
    const report: Report = {
      ...syntheticReport(),
      statements: Object.fromEntries(
        countedOperations.map((name) => [name, statementCount(name === 'noop' ? 0 : 5, { refresh: 6, login: 10 }[name])]),
      ),
      growth: syntheticGrowth(),
    };
    expectMeasuredShape(report);
    const text = markdown(report);
    expect(text).toContain('| refresh | 5 | 1 | 1 | 1 | 0 | 1 | 1 | 50 | <= 6 | yes | synthetic |');
    expect(text).toContain('1. `select id from sessions where id = ?`');
    expect(text).toContain('| 1000000 | 100000 | 1600000 | 1 | 80 (80, 80) | 0.1 (rotation_txn) | 39 (39, 39) | — |');
    expect(text).toContain('| refresh | 1.25 | 1.1 | <= 1.2 | **no** |');
    expect(text).toContain('refresh_tokens: const, refresh_tokens_hash_uq, 1');
  });

  it('elide the literals of a logged statement, and only them', () => {
    expect(elideLiterals("select `t1`.`id` from `seq_1_to_10` where `a` = 'x''y' and b in (1, 2, 3) limit 1")).toBe(
      'select `t1`.`id` from `seq_1_to_10` where `a` = ? and b in (?, …) limit ?',
    );
    expect(elideLiterals('update `s` set `n` = -2.5 where `id` = 0x0aff')).toBe('update `s` set `n` = ? where `id` = ?');
  });

  it('the committed results/latest.json has that shape too', () => {
    const file = new URL('../../bench/results/latest.json', import.meta.url);
    if (!existsSync(file)) return;
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    expectReportShape(report);
    expectMeasuredShape(report);
  });
});
