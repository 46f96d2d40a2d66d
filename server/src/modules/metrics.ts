import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from './clock';
import type { OutboxBacklog } from './outbox/backlog';
import type { SigningKeyStore } from './tokens/signingKeys';

/** The outbox backlog is read at most this often, however often Prometheus scrapes (or many scrapers do). */
export const outboxBacklogCacheInSeconds = 5;

/** What the gauges read when Prometheus scrapes, through narrow views of the service. */
export interface MetricSources {
  clock: Clock;
  signingKeys: Pick<SigningKeyStore, 'current'>;
  /** The scheduled rotation interval; 0 when keys rotate only by command. */
  signingKeyRotationInSeconds: number;
  /** One query over the pending outbox rows (modules/outbox/backlog). */
  outboxBacklog(): Promise<OutboxBacklog[]>;
  logger: Pick<Logger, 'warn'>;
}

/**
 * The service's Prometheus metrics, on a registry of its own (so two services in one
 * process, or a host app's own metrics, never collide). Labels are closed sets: never a
 * user id, an address or a token. The gauges are computed when scraped, with the service's clock.
 */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  const { clock } = sources;
  const backlog = cachedFor(outboxBacklogCacheInSeconds, clock, sources.outboxBacklog, (error) =>
    sources.logger.warn({ err: error }, 'outbox backlog unreadable for metrics; last answer kept'),
  );
  const secondsSince = (instant: Date) => Math.max(0, (clock.now().getTime() - instant.getTime()) / 1000);
  // prom-client names them process_* and nodejs_*: with the prefix, iam_process_cpu_seconds_total and so on.
  collectDefaultMetrics({ register: registry, prefix: 'iam_' });
  const metrics = {
    registry,
    logins: new Counter({
      name: 'iam_logins_total',
      help: 'Password sign-ins by outcome.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refreshes: new Counter({
      name: 'iam_refreshes_total',
      help: 'Refresh-token presentations by outcome (rotated, challenged, invalid, reused; a grace retry is rotated).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'iam_refusals_total',
      help: 'Calls refused by a limit or block, by catalog code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    breachCheckUnavailable: new Counter({
      name: 'iam_breach_check_unavailable_total',
      help: 'Password checks that ran without the Pwned Passwords API (offline list only).',
      registers: [registry],
    }),
    mailFailures: new Counter({
      name: 'iam_mail_failures_total',
      help: 'Mails the provider did not accept.',
      registers: [registry],
    }),
    mailsCapped: new Counter({
      name: 'iam_mails_capped_total',
      help: 'Mails to an address a caller named that its quiet cap held back (the caller saw the usual answer).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    retentionSwept: new Counter({
      name: 'iam_retention_swept_rows_total',
      help: 'Rows deleted by retention, by table.',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    outboxDelivered: new Counter({
      name: 'iam_outbox_delivered_total',
      help: 'Queued messages delivered by the outbox worker, by kind (mail: alerts and notices; webhook: security events).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    outboxFailedAttempts: new Counter({
      name: 'iam_outbox_failed_attempts_total',
      help: 'Outbox deliveries that failed and were scheduled again (or given up), by kind (mail, webhook).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    signInChecks: new Counter({
      name: 'iam_signin_checks_total',
      help: 'Sign-in checks run, by check and outcome (pass, challenge, logged: found by a check in log mode). A trusted device runs none.',
      labelNames: ['check', 'outcome'] as const,
      registers: [registry],
    }),
    refreshChecks: new Counter({
      name: 'iam_refresh_checks_total',
      help: 'Refresh anomaly checks run, by check and outcome (pass, challenge, deny, logged); checks after the deciding one do not run.',
      labelNames: ['check', 'outcome'] as const,
      registers: [registry],
    }),
    signingKeyAge: new Gauge({
      name: 'iam_signing_key_age_seconds',
      help: 'Seconds since the key that signs access tokens now started signing.',
      registers: [registry],
      collect() {
        try {
          this.set(secondsSince(sources.signingKeys.current().activatesAt));
        } catch {
          // No usable key (issuing tokens fails too, and logs it): no age to tell.
          this.reset();
        }
      },
    }),
    signingKeyRotationInterval: new Gauge({
      name: 'iam_signing_key_rotation_interval_seconds',
      help: 'The scheduled signing-key rotation interval (0: keys rotate only by command).',
      registers: [registry],
      collect() {
        this.set(sources.signingKeyRotationInSeconds);
      },
    }),
    outboxLag: new Gauge({
      name: 'iam_outbox_lag_seconds',
      help: `Seconds the oldest undelivered outbox message has waited, by kind (0: none waits). Read at most every ${outboxBacklogCacheInSeconds} s.`,
      labelNames: ['kind'] as const,
      registers: [registry],
      async collect() {
        for (const { kind, oldestCreatedAt } of (await backlog()) ?? []) {
          this.set({ kind }, oldestCreatedAt ? secondsSince(oldestCreatedAt) : 0);
        }
      },
    }),
    outboxPending: new Gauge({
      name: 'iam_outbox_pending_messages',
      help: `Outbox messages waiting for delivery (retries included), by kind. Read at most every ${outboxBacklogCacheInSeconds} s.`,
      labelNames: ['kind'] as const,
      registers: [registry],
      async collect() {
        for (const { kind, pending } of (await backlog()) ?? []) this.set({ kind }, pending);
      },
    }),
    procedureSeconds: new Histogram({
      name: 'iam_procedure_duration_seconds',
      help: 'Duration of procedure calls.',
      labelNames: ['path', 'result'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
  // The closed label sets start at 0, so a first event is an increase (rate, increase and alerts
  // see it) rather than a series appearing out of nowhere.
  for (const outcome of loginOutcomes) metrics.logins.inc({ outcome }, 0);
  for (const outcome of refreshOutcomes) metrics.refreshes.inc({ outcome }, 0);
  for (const code of refusalCodes) metrics.refusals.inc({ code }, 0);
  for (const kind of outboxKinds) {
    metrics.outboxDelivered.inc({ kind }, 0);
    metrics.outboxFailedAttempts.inc({ kind }, 0);
  }
  return metrics;
}

const loginOutcomes = ['authenticated', 'challenged', 'verification_required', 'invalid_credentials', 'refused'] as const;
const refreshOutcomes = ['rotated', 'challenged', 'invalid', 'reused'] as const;
const refusalCodes = ['RATE_LIMITED', 'IP_BLOCKED', 'BOT_CHECK_REQUIRED'] as const;
const outboxKinds = ['mail', 'webhook'] as const;

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `load`, answered from the last result while it is younger than `ttlInSeconds` by the clock, with
 * one load at a time for every caller. A failed load is reported and the last result kept for the
 * same time, so a database in trouble is not asked on every scrape.
 */
function cachedFor<T>(ttlInSeconds: number, clock: Clock, load: () => Promise<T>, onError: (error: unknown) => void) {
  let value: T | undefined;
  let loadedAtMs = Number.NEGATIVE_INFINITY;
  let pending: Promise<T | undefined> | undefined;
  return (): Promise<T | undefined> => {
    const nowMs = clock.now().getTime();
    // A clock moved back makes the cache stale rather than fresh for longer.
    if (nowMs >= loadedAtMs && nowMs - loadedAtMs < ttlInSeconds * 1000) return Promise.resolve(value);
    pending ??= load()
      .then(
        (loaded) => {
          value = loaded;
          return loaded;
        },
        (error: unknown) => {
          onError(error);
          return value;
        },
      )
      .finally(() => {
        loadedAtMs = nowMs;
        pending = undefined;
      });
    return pending;
  };
}
