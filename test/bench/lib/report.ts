import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type GeoMemoryReport, geoMemoryMarkdown } from './geoMemory';
import type { GrowthReport } from './growth';
import type { LoopResult } from './loop';
import type { StatementCount } from './statements';
import { median, minMax, round } from './stats';

export interface TargetSpec {
  name: string;
  /** Targets of a group run one after another, in alternating order, every round. */
  group: string;
  what: string;
  concurrency: number;
  /** Overrides the run's seconds per target. */
  seconds?: number;
  /** Untimed set-up before each run (fresh sessions…). */
  prepare?(): Promise<void>;
  run(seconds: number): Promise<LoopResult>;
}

export interface RatioSpec {
  key: string;
  target: string;
  baseline: string;
  /** The issue's goal for the ratio; null when it is reported only. */
  goal: { min: number } | null;
}

export interface TargetReport {
  what: string;
  group: string;
  concurrency: number;
  unit: 'ops/s';
  median: number;
  min: number;
  max: number;
  perRound: number[];
  /** Medians over the rounds of each round's p50 and p99, in milliseconds. */
  latencyMs: { p50: number; p99: number } | null;
  failed: number;
  firstError?: string;
}

export interface RatioReport {
  /** The median of the per-round ratios (target and baseline of the same round). */
  value: number;
  min: number;
  max: number;
  perRound: number[];
  target: string;
  baseline: string;
  goal: string | null;
  meetsGoal: boolean | null;
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  os: string;
  memoryGb: number;
}

export interface Report {
  generatedAt: string;
  durationInSeconds: number;
  machine: Machine;
  settings: unknown;
  ratios: Record<string, number>;
  peak_rss_mb: number;
  idle_rss_mb: number | null;
  ratio_details: Record<string, RatioReport>;
  secondary_ratios: Record<string, RatioReport>;
  memory: MemoryReport;
  targets: Record<string, TargetReport>;
  /** Database statements per call, by operation (lib/statements.ts). */
  statements?: Record<string, StatementCount>;
  /** Throughput as the tables grow (lib/growth.ts); absent with BENCH_GROWTH=0. */
  growth?: GrowthReport;
  /** What the geolocation data costs a process (lib/geoMemory.ts). */
  geo_memory?: GeoMemoryReport;
}

export interface MemoryReport {
  /** The service process's VmHWM at the end of the main rounds. */
  peak_rss_mb: number;
  goal: string;
  meetsGoal: boolean;
  /** The service's VmRSS once ready and idle for a few seconds, before any call. */
  idle_rss_mb: number | null;
  idle_goal: string;
  idle_meetsGoal: boolean | null;
  /** The same after one sign-up and one sign-in, idle again as long. */
  idle_rss_after_signin_mb: number | null;
  /** Largest VmRSS seen while sampling every 250 ms during the rounds. */
  sampled_peak_rss_mb: number;
  /** The embedded MariaDB's own peak (a separate process, not counted above). */
  database_peak_rss_mb: number | null;
  /** The peer's two processes (argon2id and scrypt hashing), VmHWM each, under the same rounds. */
  better_auth_peak_rss_mb: { argon2id: number | null; scrypt: number | null };
}

export interface MemoryInput {
  peakRssMb: number;
  sampledPeakRssMb: number;
  databasePeakRssMb: number | null;
  idleRssMb: number | null;
  idleAfterSignInRssMb: number | null;
  betterAuthPeakRssMb: { argon2id: number | null; scrypt: number | null };
}

const peakRssGoalInMb = 250;
const idleRssGoalInMb = 150;
const roundOrNull = (value: number | null) => (value === null ? null : round(value));

export function machineInfo(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    memoryGb: round(os.totalmem() / 1024 ** 3),
  };
}

export function buildReport(input: {
  settings: unknown;
  machine: Machine;
  targets: TargetSpec[];
  results: Map<string, LoopResult[]>;
  ratios: RatioSpec[];
  secondaryRatios: RatioSpec[];
  memory: MemoryInput;
  durationInSeconds: number;
}): Report {
  const targets: Record<string, TargetReport> = {};
  for (const target of input.targets) {
    const runs = input.results.get(target.name) ?? [];
    const perRound = runs.map((run) => run.perSecond);
    const latencies = runs.flatMap((run) => (run.latencyMs ? [run.latencyMs] : []));
    const firstError = runs.find((run) => run.firstError)?.firstError;
    targets[target.name] = {
      what: target.what,
      group: target.group,
      concurrency: target.concurrency,
      unit: 'ops/s',
      median: round(median(perRound)),
      ...roundedRange(perRound),
      perRound: perRound.map((value) => round(value)),
      latencyMs:
        latencies.length > 0 ? { p50: round(median(latencies.map((l) => l.p50))), p99: round(median(latencies.map((l) => l.p99))) } : null,
      failed: runs.reduce((sum, run) => sum + run.failed, 0),
      ...(firstError ? { firstError } : {}),
    };
  }

  const ratioOf = (spec: RatioSpec): RatioReport => {
    const target = input.results.get(spec.target) ?? [];
    const baseline = input.results.get(spec.baseline) ?? [];
    const perRound = target.map((run, i) => run.perSecond / (baseline[i]?.perSecond ?? Number.NaN));
    const value = round(median(perRound));
    return {
      value,
      ...roundedRange(perRound),
      perRound: perRound.map((ratio) => round(ratio)),
      target: spec.target,
      baseline: spec.baseline,
      goal: spec.goal ? `>= ${spec.goal.min}` : null,
      meetsGoal: spec.goal ? value >= spec.goal.min : null,
    };
  };
  const ratioDetails = Object.fromEntries(input.ratios.map((spec) => [spec.key, ratioOf(spec)]));
  const peak = round(input.memory.peakRssMb);
  const idle = roundOrNull(input.memory.idleRssMb);

  return {
    generatedAt: new Date().toISOString(),
    durationInSeconds: Math.round(input.durationInSeconds),
    machine: input.machine,
    settings: input.settings,
    ratios: Object.fromEntries(Object.entries(ratioDetails).map(([key, detail]) => [key, detail.value])),
    peak_rss_mb: peak,
    idle_rss_mb: idle,
    ratio_details: ratioDetails,
    secondary_ratios: Object.fromEntries(input.secondaryRatios.map((spec) => [spec.key, ratioOf(spec)])),
    memory: {
      peak_rss_mb: peak,
      goal: `<= ${peakRssGoalInMb}`,
      meetsGoal: peak <= peakRssGoalInMb,
      idle_rss_mb: idle,
      idle_goal: `<= ${idleRssGoalInMb}`,
      idle_meetsGoal: idle === null ? null : idle <= idleRssGoalInMb,
      idle_rss_after_signin_mb: roundOrNull(input.memory.idleAfterSignInRssMb),
      sampled_peak_rss_mb: round(input.memory.sampledPeakRssMb),
      database_peak_rss_mb: roundOrNull(input.memory.databasePeakRssMb),
      better_auth_peak_rss_mb: {
        argon2id: roundOrNull(input.memory.betterAuthPeakRssMb.argon2id),
        scrypt: roundOrNull(input.memory.betterAuthPeakRssMb.scrypt),
      },
    },
    targets,
  };
}

function roundedRange(values: number[]): { min: number; max: number } {
  const { min, max } = minMax(values);
  return { min: round(min), max: round(max) };
}

/** The tables as Markdown (the README's Benchmarks section is this file). */
export function markdown(report: Report): string {
  const m = report.machine;
  const lines = [
    `Ran ${report.generatedAt.slice(0, 10)} on ${m.nproc} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, ${m.os}; ` +
      `${(report.settings as { rounds: number }).rounds} rounds, ${report.durationInSeconds} s in all.`,
    '',
    '| ratio | median | min–max over rounds | goal | met |',
    '|---|---:|---:|---:|:---:|',
  ];
  for (const [key, ratio] of Object.entries(report.ratio_details)) lines.push(ratioRow(key, ratio));
  const memory = report.memory;
  lines.push(
    `| peak_rss_mb (service, VmHWM) | ${report.peak_rss_mb} | — | ${memory.goal} | ${met(memory.meetsGoal)} |`,
    `| idle_rss_mb (service, VmRSS idle after start) | ${memory.idle_rss_mb ?? '—'} | — | ${memory.idle_goal} | ${met(memory.idle_meetsGoal)} |`,
  );
  for (const [key, ratio] of Object.entries(report.secondary_ratios)) lines.push(ratioRow(`_${key}_`, ratio));
  lines.push(
    '',
    '| memory | MB |',
    '|---|---:|',
    `| service peak (VmHWM) | ${memory.peak_rss_mb} |`,
    `| service idle after start | ${memory.idle_rss_mb ?? '—'} |`,
    `| service idle after one sign-up and sign-in | ${memory.idle_rss_after_signin_mb ?? '—'} |`,
    `| service largest VmRSS sampled during the rounds | ${memory.sampled_peak_rss_mb} |`,
    `| better-auth peak, argon2id process (VmHWM) | ${memory.better_auth_peak_rss_mb.argon2id ?? '—'} |`,
    `| better-auth peak, scrypt process (VmHWM) | ${memory.better_auth_peak_rss_mb.scrypt ?? '—'} |`,
    `| embedded MariaDB peak (VmHWM, apart) | ${memory.database_peak_rss_mb ?? '—'} |`,
  );
  if (report.statements) lines.push(...statementsMarkdown(report.statements));
  lines.push('', '| target | ops/s median | min–max | p50 ms | p99 ms | concurrency | what |', '|---|---:|---:|---:|---:|---:|---|');
  for (const [name, target] of Object.entries(report.targets)) {
    lines.push(
      `| ${name} | ${target.median} | ${target.min}–${target.max} | ${target.latencyMs?.p50 ?? '—'} | ${target.latencyMs?.p99 ?? '—'} | ` +
        `${target.concurrency} | ${target.what}${target.failed ? ` (**${target.failed} failed**)` : ''} |`,
    );
  }
  if (report.growth) lines.push(...growthMarkdown(report.growth));
  if (report.geo_memory) lines.push(...geoMemoryMarkdown(report.geo_memory));
  return `${lines.join('\n')}\n`;
}

function met(value: boolean | null): string {
  return value === null ? '—' : value ? 'yes' : '**no**';
}

function statementsMarkdown(statements: Record<string, StatementCount>): string[] {
  const lines = [
    '',
    '| statements per call | all | select | insert | update | delete | begin | commit | calls | goal | met | what |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---|',
  ];
  for (const [name, count] of Object.entries(statements)) {
    const c = count.perCall;
    lines.push(
      `| ${name} | ${count.statements} | ${c.select ?? '—'} | ${(c.insert ?? 0) + (c.insert_select ?? 0)} | ${c.update ?? '—'} | ` +
        `${c.delete ?? '—'} | ${c.begin ?? '—'} | ${c.commit ?? '—'} | ${count.calls} | ${count.goal ?? 'report'} | ${met(count.meetsGoal)} | ${count.what} |`,
    );
  }
  for (const [name, count] of Object.entries(statements)) {
    if (!count.sample || count.sample.length === 0) continue;
    lines.push('', `One ${name}, from the general log (${count.sample.length} statements, literals elided):`, '');
    lines.push(...count.sample.map((statement, i) => `${i + 1}. \`${statement.replaceAll('`', '')}\``));
  }
  return lines;
}

function growthMarkdown(growth: GrowthReport): string[] {
  const lines = [
    '',
    `Growth: ${growth.what}.`,
    '',
    '| sessions | users | refresh_tokens | seeded in s | refresh/s (rounds) | refresh / baseline | login/s (rounds) | login / baseline |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const versus = (target: GrowthReport['sizes'][number]['refresh']) =>
    target.vsBaseline ? `${target.vsBaseline.median} (${target.vsBaseline.baseline})` : '—';
  for (const size of growth.sizes) {
    lines.push(
      `| ${size.sessions} | ${size.tableRows.users ?? '—'} | ${size.tableRows.refresh_tokens ?? '—'} | ${size.seedSeconds} | ` +
        `${size.refresh.median} (${size.refresh.perRound.join(', ')}) | ${versus(size.refresh)} | ` +
        `${size.login.median} (${size.login.perRound.join(', ')}) | ${versus(size.login)} |`,
    );
  }
  lines.push(
    '',
    '| growth ratio | max/min of ops/s | max/min of the ratio to its baseline | goal | met |',
    '|---|---:|---:|---:|:---:|',
    ...(['refresh', 'login'] as const).map((name) => {
      const ratio = growth.ratios[name];
      return `| ${name} | ${ratio.maxOverMin} | ${ratio.baselineMaxOverMin ?? '—'} | ${ratio.goal} | ${met(ratio.meetsGoal)} |`;
    }),
  );
  lines.push('', `Plans at ${growth.sizes.at(-1)?.sessions ?? '—'} sessions (EXPLAIN of what one refresh and one login sent):`, '');
  lines.push(
    '"Impossible WHERE noticed after reading const tables": MariaDB read the row by a unique key while planning and found it no ' +
      'longer matches (the statement had already run: a spent token, a counter gone).',
    '',
    '| op | statement | table: access type, key, rows | full scan |',
    '|---|---|---|:---:|',
  );
  for (const name of ['refresh', 'login'] as const) {
    for (const plan of growth.plans[name]) {
      // No table at all: MariaDB answered from the unique keys while planning ("Impossible WHERE noticed after reading const tables").
      const tables = plan.tables
        .map((table) =>
          table.table ? `${table.table}: ${table.type}, ${table.key ?? 'no key'}, ${table.rows ?? '—'}` : (table.extra ?? '—'),
        )
        .join('; ');
      lines.push(
        `| ${name} | \`${plan.statement.replaceAll('`', '').replaceAll('|', '\\|').slice(0, 160)}\` | ${tables} | ${plan.fullScan ? '**yes**' : 'no'} |`,
      );
    }
  }
  return lines;
}

function ratioRow(key: string, ratio: RatioReport): string {
  return `| ${key} (${ratio.target} / ${ratio.baseline}) | ${ratio.value} | ${ratio.min}–${ratio.max} | ${ratio.goal ?? 'report'} | ${met(ratio.meetsGoal)} |`;
}

export async function writeReport(report: Report, resultsDir: string): Promise<void> {
  await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(resultsDir, 'latest.md'), markdown(report));
}

export function printReport(report: Report): void {
  console.log(`\n${markdown(report)}`);
  console.log(`written to test/bench/results/latest.json and latest.md`);
}
