import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LoopResult } from '../../bench/lib/loop';
import { primaryRatios, secondaryRatios } from '../../bench/lib/ratios';
import { buildReport, markdown, type Report, type TargetSpec } from '../../bench/lib/report';

// Structure only: `pnpm bench` is never run here and no figure is judged (issue 6: no timing assertions).
const requiredRatios = [
  'login_vs_argon2',
  'refresh_vs_txn',
  'authed_vs_noop',
  'trpc_vs_express',
  'verify_vs_jose',
  'signin_vs_better_auth',
  'session_vs_better_auth',
];

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
    memory: { peakRssMb: 100, sampledPeakRssMb: 90, databasePeakRssMb: null },
    durationInSeconds: 1,
  });
}

function expectReportShape(report: Report): void {
  expect(Object.keys(report.ratios).sort()).toEqual([...requiredRatios].sort());
  for (const value of Object.values(report.ratios)) expect(typeof value).toBe('number');
  expect(typeof report.peak_rss_mb).toBe('number');
  for (const key of requiredRatios) {
    const detail = report.ratio_details[key];
    expect(detail?.perRound.length).toBeGreaterThan(0);
    expect(report.targets[detail?.target ?? '']).toBeDefined();
    expect(report.targets[detail?.baseline ?? '']).toBeDefined();
  }
  for (const target of Object.values(report.targets)) {
    expect(target).toMatchObject({ median: expect.any(Number), min: expect.any(Number), max: expect.any(Number) });
    expect(target.perRound.length).toBeGreaterThan(0);
  }
}

describe('pnpm bench results', () => {
  it('report the issue’s seven ratios by exactly their keys, with peak RSS and per-target medians, ranges and latencies', () => {
    const report = syntheticReport();
    expectReportShape(report);
    expect(report.targets.login?.latencyMs).toEqual({ p50: 1, p99: 2 });
    expect(markdown(report)).toContain('| login_vs_argon2 (login / argon2id_verify) |');
  });

  it('the committed results/latest.json has that shape too', () => {
    const file = new URL('../../bench/results/latest.json', import.meta.url);
    if (!existsSync(file)) return;
    expectReportShape(JSON.parse(readFileSync(file, 'utf8')) as Report);
  });
});
