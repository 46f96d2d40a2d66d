import { quantile } from './stats';

/** What one measured loop did: how many operations finished, how fast, how slowly. */
export interface LoopResult {
  /** Operations that completed successfully within the window. */
  ok: number;
  failed: number;
  durationInSeconds: number;
  perSecond: number;
  /** Latency of the successful operations, in milliseconds (absent when not recorded). */
  latencyMs?: { p50: number; p99: number; max: number };
  /** The first failure, for the report. */
  firstError?: string;
}

/**
 * Runs `operation` from `concurrency` independent workers, each one after another, until
 * `durationInMs` has passed; operations still running then finish but are not counted, so
 * the window is exact on both ends. Worker `i` gets its index (its own session, cookie…).
 */
export async function timedLoop(
  opts: { concurrency: number; durationInMs: number; recordLatency?: boolean },
  operation: (worker: number) => Promise<unknown>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const deadline = startedAt + opts.durationInMs;
  const record = opts.recordLatency ?? true;

  async function worker(index: number): Promise<void> {
    for (;;) {
      const begin = performance.now();
      if (begin >= deadline) return;
      try {
        await operation(index);
        const end = performance.now();
        if (end > deadline) return;
        ok++;
        if (record) latencies.push(end - begin);
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
        // A failing target must not spin: back off a little.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  await Promise.all(Array.from({ length: opts.concurrency }, (_, index) => worker(index)));
  const durationInSeconds = opts.durationInMs / 1000;
  return {
    ok,
    failed,
    durationInSeconds,
    perSecond: ok / durationInSeconds,
    ...(record && latencies.length > 0
      ? { latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.reduce((a, b) => Math.max(a, b), 0) } }
      : {}),
    ...(firstError ? { firstError } : {}),
  };
}
