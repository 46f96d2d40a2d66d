import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type GeoMemoryReport, geoMemoryMarkdown } from './geoMemory';
import type { LoopResult } from './loop';
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
  ratio_details: Record<string, RatioReport>;
  secondary_ratios: Record<string, RatioReport>;
  memory: {
    peak_rss_mb: number;
    goal: string;
    meetsGoal: boolean;
    /** Largest VmRSS seen while sampling every 250 ms during the rounds. */
    sampled_peak_rss_mb: number;
    /** The embedded MariaDB's own peak (a separate process, not counted above). */
    database_peak_rss_mb: number | null;
  };
  targets: Record<string, TargetReport>;
  /** What the geolocation data costs a process (lib/geoMemory.ts). */
  geo_memory?: GeoMemoryReport;
}

const peakRssGoalInMb = 350;

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
  memory: { peakRssMb: number; sampledPeakRssMb: number; databasePeakRssMb: number | null };
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

  return {
    generatedAt: new Date().toISOString(),
    durationInSeconds: Math.round(input.durationInSeconds),
    machine: input.machine,
    settings: input.settings,
    ratios: Object.fromEntries(Object.entries(ratioDetails).map(([key, detail]) => [key, detail.value])),
    peak_rss_mb: peak,
    ratio_details: ratioDetails,
    secondary_ratios: Object.fromEntries(input.secondaryRatios.map((spec) => [spec.key, ratioOf(spec)])),
    memory: {
      peak_rss_mb: peak,
      goal: `<= ${peakRssGoalInMb}`,
      meetsGoal: peak <= peakRssGoalInMb,
      sampled_peak_rss_mb: round(input.memory.sampledPeakRssMb),
      database_peak_rss_mb: input.memory.databasePeakRssMb === null ? null : round(input.memory.databasePeakRssMb),
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
  lines.push(
    `| peak_rss_mb (service, VmHWM) | ${report.peak_rss_mb} | — | ${report.memory.goal} | ${report.memory.meetsGoal ? 'yes' : '**no**'} |`,
  );
  for (const [key, ratio] of Object.entries(report.secondary_ratios)) lines.push(ratioRow(`_${key}_`, ratio));
  lines.push('', '| target | ops/s median | min–max | p50 ms | p99 ms | concurrency | what |', '|---|---:|---:|---:|---:|---:|---|');
  for (const [name, target] of Object.entries(report.targets)) {
    lines.push(
      `| ${name} | ${target.median} | ${target.min}–${target.max} | ${target.latencyMs?.p50 ?? '—'} | ${target.latencyMs?.p99 ?? '—'} | ` +
        `${target.concurrency} | ${target.what}${target.failed ? ` (**${target.failed} failed**)` : ''} |`,
    );
  }
  if (report.geo_memory) lines.push(...geoMemoryMarkdown(report.geo_memory));
  return `${lines.join('\n')}\n`;
}

function ratioRow(key: string, ratio: RatioReport): string {
  const met = ratio.meetsGoal === null ? '—' : ratio.meetsGoal ? 'yes' : '**no**';
  return `| ${key} (${ratio.target} / ${ratio.baseline}) | ${ratio.value} | ${ratio.min}–${ratio.max} | ${ratio.goal ?? 'report'} | ${met} |`;
}

export async function writeReport(report: Report, resultsDir: string): Promise<void> {
  await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(resultsDir, 'latest.md'), markdown(report));
}

export function printReport(report: Report): void {
  console.log(`\n${markdown(report)}`);
  console.log(`written to test/bench/results/latest.json and latest.md`);
}
