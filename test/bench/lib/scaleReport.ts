// The report of `pnpm bench --scale`: every target's figures over the rounds, and ratios of
// targets to baselines of the same round (results/scale.json and scale.md).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoopResult } from './loop';
import type { Machine, TargetReport, TargetSpec } from './report';
import { median, minMax, round } from './stats';

export interface ScaleTarget extends TargetSpec {
  backend: 'single' | 'galera';
  /** Service instances the load went round-robin over (absent for the statement targets). */
  instances?: number;
  /** Statement targets: what and at which concurrency, for the statements table. */
  statement?: { kind: string; concurrency: number };
}

export interface ScaleRatioSpec {
  key: string;
  target: string;
  baseline: string;
  /** `throughput`: ops/s over ops/s; `p50`: median latency over median latency (above 1 is slower). */
  measure: 'throughput' | 'p50';
}

/** Per round, what one run of a target did besides its loop result (Galera's conflict counters, retries). */
export interface RunExtras {
  certFailures?: number;
  bfAborts?: number;
  retries?: number;
}

/** A target of the scale bench: the main bench's report of a target, with where it ran and what the cluster did. */
export interface ScaleTargetReport extends TargetReport {
  backend: 'single' | 'galera';
  instances: number | null;
  /** Summed over the rounds: Galera's certification failures and brute-force aborts on all nodes, statement retries. */
  certFailures?: number;
  bfAborts?: number;
  retries?: number;
}

export interface ScaleRatioReport {
  value: number;
  min: number;
  max: number;
  perRound: number[];
  target: string;
  baseline: string;
  measure: 'throughput' | 'p50';
}

export interface ScaleReport {
  generatedAt: string;
  durationInSeconds: number;
  machine: Machine;
  settings: unknown;
  /** How to read the figures on this machine. */
  note: string;
  ratios: Record<string, number>;
  ratio_details: Record<string, ScaleRatioReport>;
  targets: Record<string, ScaleTargetReport>;
}

export function buildScaleReport(input: {
  settings: unknown;
  machine: Machine;
  note: string;
  targets: ScaleTarget[];
  results: Map<string, LoopResult[]>;
  extras: Map<string, RunExtras[]>;
  ratios: ScaleRatioSpec[];
  durationInSeconds: number;
}): ScaleReport {
  const targets: Record<string, ScaleTargetReport> = {};
  for (const target of input.targets) {
    const runs = input.results.get(target.name) ?? [];
    const extras = input.extras.get(target.name) ?? [];
    const perRound = runs.map((run) => run.perSecond);
    const latencies = runs.flatMap((run) => (run.latencyMs ? [run.latencyMs] : []));
    const firstError = runs.find((run) => run.firstError)?.firstError;
    const sum = (field: keyof RunExtras) =>
      extras.some((extra) => extra[field] !== undefined)
        ? { [field]: extras.reduce((total, extra) => total + (extra[field] ?? 0), 0) }
        : {};
    const { min, max } = minMax(perRound);
    targets[target.name] = {
      what: target.what,
      group: target.group,
      backend: target.backend,
      instances: target.instances ?? null,
      concurrency: target.concurrency,
      unit: 'ops/s',
      median: round(median(perRound)),
      min: round(min),
      max: round(max),
      perRound: perRound.map((value) => round(value)),
      latencyMs:
        latencies.length > 0 ? { p50: round(median(latencies.map((l) => l.p50))), p99: round(median(latencies.map((l) => l.p99))) } : null,
      failed: runs.reduce((total, run) => total + run.failed, 0),
      ...(firstError ? { firstError } : {}),
      ...sum('certFailures'),
      ...sum('bfAborts'),
      ...sum('retries'),
    };
  }

  const measureOf = (run: LoopResult | undefined, measure: ScaleRatioSpec['measure']) =>
    measure === 'throughput' ? (run?.perSecond ?? Number.NaN) : (run?.latencyMs?.p50 ?? Number.NaN);
  const ratioDetails: Record<string, ScaleRatioReport> = {};
  for (const spec of input.ratios) {
    const target = input.results.get(spec.target) ?? [];
    const baseline = input.results.get(spec.baseline) ?? [];
    const perRound = target.map((run, i) => measureOf(run, spec.measure) / measureOf(baseline[i], spec.measure));
    const { min, max } = minMax(perRound);
    ratioDetails[spec.key] = {
      value: round(median(perRound)),
      min: round(min),
      max: round(max),
      perRound: perRound.map((ratio) => round(ratio)),
      target: spec.target,
      baseline: spec.baseline,
      measure: spec.measure,
    };
  }

  return {
    generatedAt: new Date().toISOString(),
    durationInSeconds: Math.round(input.durationInSeconds),
    machine: input.machine,
    settings: input.settings,
    note: input.note,
    ratios: Object.fromEntries(Object.entries(ratioDetails).map(([key, detail]) => [key, detail.value])),
    ratio_details: ratioDetails,
    targets,
  };
}

export function scaleMarkdown(report: ScaleReport): string {
  const m = report.machine;
  const settings = report.settings as { rounds: number; secondsPerTarget: number; statementSeconds: number };
  const lines = [
    `Ran ${report.generatedAt.slice(0, 10)} on ${m.nproc} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, ${m.os}; ` +
      `${settings.rounds} rounds, ${settings.secondsPerTarget} s per service target and ${settings.statementSeconds} s per statement target, ` +
      `${report.durationInSeconds} s in all.`,
    '',
    report.note,
    '',
    '| operation | backend | instances | ops/s median | min–max | p50 ms | p99 ms | failed | cert. failures | vs single, 1 instance | vs Galera, 1 instance |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const ratioFor = (target: string, baseline: string) => {
    const found = Object.values(report.ratio_details).find(
      (ratio) => ratio.target === target && ratio.baseline === baseline && ratio.measure === 'throughput',
    );
    return found ? `${found.value} (${found.min}–${found.max})` : '—';
  };
  const services = Object.entries(report.targets).filter(([, target]) => target.instances !== null);
  for (const [name, target] of services) {
    const operation = target.group;
    lines.push(
      `| ${operation} | ${target.backend === 'galera' ? 'Galera, 3 nodes' : 'single server'} | ${target.instances} | ${target.median} | ` +
        `${target.min}–${target.max} | ${target.latencyMs?.p50 ?? '—'} | ${target.latencyMs?.p99 ?? '—'} | ${target.failed} | ` +
        `${target.certFailures ?? '—'} | ${target.backend === 'single' ? '1' : ratioFor(name, `${operation}_single_1`)} | ` +
        `${target.backend === 'single' ? '—' : ratioFor(name, `${operation}_galera_1`)} |`,
    );
  }

  lines.push(
    '',
    '| statement | concurrency | single ops/s | Galera ops/s | Galera / single ops/s | single p50 ms | Galera p50 ms | Galera / single p50 | Galera: retried, failed after its attempts, cert. failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const statementGroups = [
    ...new Set(Object.values(report.targets).flatMap((target) => (target.instances === null ? [target.group] : []))),
  ];
  for (const group of statementGroups) {
    const pair = Object.entries(report.targets).filter(([, target]) => target.group === group);
    const single = pair.find(([, target]) => target.backend === 'single');
    const galera = pair.find(([, target]) => target.backend === 'galera');
    if (!single || !galera) continue;
    const ratio = (measure: 'throughput' | 'p50') => {
      const found = Object.values(report.ratio_details).find(
        (r) => r.target === galera[0] && r.baseline === single[0] && r.measure === measure,
      );
      return found ? `${found.value} (${found.min}–${found.max})` : '—';
    };
    lines.push(
      `| ${group}: ${galera[1].what} | ${galera[1].concurrency} | ${single[1].median} | ${galera[1].median} | ${ratio('throughput')} | ` +
        `${single[1].latencyMs?.p50 ?? '—'} | ${galera[1].latencyMs?.p50 ?? '—'} | ${ratio('p50')} | ` +
        `${galera[1].retries ?? 0}, ${galera[1].failed}, ${galera[1].certFailures ?? '—'} |`,
    );
  }

  lines.push('', '| target | what |', '|---|---|');
  for (const [name, target] of Object.entries(report.targets)) {
    lines.push(`| ${name} | ${target.what}${target.failed ? ` (**${target.failed} failed**: ${target.firstError ?? ''})` : ''} |`);
  }
  return `${lines.join('\n')}\n`;
}

export async function writeScaleReport(report: ScaleReport, resultsDir: string): Promise<void> {
  await writeFile(path.join(resultsDir, 'scale.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(resultsDir, 'scale.md'), scaleMarkdown(report));
}
