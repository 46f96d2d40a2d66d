import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of its own (so two services in one
 * process, or a host app's own metrics, never collide). Labels are closed sets: never a
 * user id, an address or a token.
 */
export function createMetrics() {
  const registry = new Registry();
  // prom-client names them process_* and nodejs_*: with the prefix, iam_process_cpu_seconds_total and so on.
  collectDefaultMetrics({ register: registry, prefix: 'iam_' });
  return {
    registry,
    logins: new Counter({
      name: 'iam_logins_total',
      help: 'Password sign-ins by outcome.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refreshes: new Counter({
      name: 'iam_refreshes_total',
      help: 'Refresh-token presentations by outcome (rotated, grace, invalid, reused).',
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
    procedureSeconds: new Histogram({
      name: 'iam_procedure_duration_seconds',
      help: 'Duration of procedure calls.',
      labelNames: ['path', 'result'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
