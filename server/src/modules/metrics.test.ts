import { describe, expect, it } from 'vitest';
import { addSeconds } from './clock';
import { createMetrics, type MetricSources, outboxBacklogCacheInSeconds } from './metrics';
import type { OutboxBacklog } from './outbox/backlog';

const start = new Date('2026-06-01T12:00:00Z');

function sources(overrides: Partial<MetricSources> = {}) {
  let now = start;
  const warnings: string[] = [];
  let backlogReads = 0;
  let backlog: OutboxBacklog[] | Error = [
    { kind: 'mail', pending: 0, oldestCreatedAt: null },
    { kind: 'webhook', pending: 0, oldestCreatedAt: null },
  ];
  const fake = {
    clock: { now: () => now },
    signingKeys: { current: () => ({ kid: 'key_a', privateKey: {} as CryptoKey, activatesAt: addSeconds(start, -600) }) },
    signingKeyRotationInSeconds: 30 * 24 * 3600,
    async outboxBacklog() {
      backlogReads++;
      if (backlog instanceof Error) throw backlog;
      return backlog;
    },
    logger: { warn: (_: unknown, message: string) => warnings.push(message) },
    ...overrides,
  } as MetricSources;
  return {
    fake,
    warnings,
    reads: () => backlogReads,
    advance: (seconds: number) => {
      now = addSeconds(now, seconds);
    },
    setBacklog: (next: OutboxBacklog[] | Error) => {
      backlog = next;
    },
  };
}

async function value(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const sample = metric?.values.find((candidate) => Object.entries(labels).every(([key, wanted]) => candidate.labels[key] === wanted));
  return sample?.value;
}

describe('the metrics computed when scraped', () => {
  it('signing-key age: seconds since the signing key started signing, by the service clock', async () => {
    const s = sources();
    const metrics = createMetrics(s.fake);
    expect(await value(metrics, 'iam_signing_key_age_seconds')).toBe(600);
    s.advance(3600);
    expect(await value(metrics, 'iam_signing_key_age_seconds')).toBe(4200);
    expect(await value(metrics, 'iam_signing_key_rotation_interval_seconds')).toBe(30 * 24 * 3600);
  });

  it('signing-key age: a key that starts signing a little ahead of this clock is 0 old, not negative', async () => {
    const s = sources({
      signingKeys: { current: () => ({ kid: 'key_b', privateKey: {} as CryptoKey, activatesAt: addSeconds(start, 30) }) },
    });
    expect(await value(createMetrics(s.fake), 'iam_signing_key_age_seconds')).toBe(0);
  });

  it('outbox lag: 0 for every kind when nothing waits; the oldest waiting message’s age, and the count, otherwise', async () => {
    const s = sources();
    const metrics = createMetrics(s.fake);
    expect(await value(metrics, 'iam_outbox_lag_seconds', { kind: 'mail' })).toBe(0);
    expect(await value(metrics, 'iam_outbox_lag_seconds', { kind: 'webhook' })).toBe(0);
    s.setBacklog([
      { kind: 'mail', pending: 3, oldestCreatedAt: addSeconds(start, -900) },
      { kind: 'webhook', pending: 0, oldestCreatedAt: null },
    ]);
    s.advance(outboxBacklogCacheInSeconds);
    expect(await value(metrics, 'iam_outbox_lag_seconds', { kind: 'mail' })).toBe(900 + outboxBacklogCacheInSeconds);
    expect(await value(metrics, 'iam_outbox_pending_messages', { kind: 'mail' })).toBe(3);
    expect(await value(metrics, 'iam_outbox_lag_seconds', { kind: 'webhook' })).toBe(0);
  });

  it('outbox lag: one query per cache period however many scrapes come, and the last answer kept when the query fails', async () => {
    const s = sources();
    const metrics = createMetrics(s.fake);
    await Promise.all(Array.from({ length: 10 }, () => metrics.registry.metrics()));
    expect(s.reads()).toBe(1);
    s.advance(outboxBacklogCacheInSeconds - 1);
    await metrics.registry.metrics();
    expect(s.reads()).toBe(1);
    s.advance(1);
    s.setBacklog(new Error('connection lost'));
    expect(await value(metrics, 'iam_outbox_lag_seconds', { kind: 'mail' })).toBe(0);
    expect(s.reads()).toBe(2);
    expect(s.warnings).toEqual(['outbox backlog unreadable for metrics; last answer kept']);
    // The failure is kept as long as an answer would be: a database in trouble is not asked on every scrape.
    await metrics.registry.metrics();
    expect(s.reads()).toBe(2);
  });

  it('counters of closed label sets start at 0, so a first reuse is an increase', async () => {
    const metrics = createMetrics(sources().fake);
    expect(await value(metrics, 'iam_refreshes_total', { outcome: 'reused' })).toBe(0);
    expect(await value(metrics, 'iam_logins_total', { outcome: 'invalid_credentials' })).toBe(0);
    expect(await value(metrics, 'iam_outbox_failed_attempts_total', { kind: 'mail' })).toBe(0);
  });
});
