import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { auditEvents } from '../../db/tables';

/** What the dashboard counts, and the audit types each series is made of. */
const seriesTypes = {
  signIns: ['login.succeeded'],
  failures: ['login.failed', 'challenge.failed'],
  challenges: ['login.challenged', 'session.challenged'],
  reuseDetections: ['session.refresh_reused'],
} as const;
type Series = keyof typeof seriesTypes;

const bucketInSeconds = { hour: 3_600, day: 86_400 } as const;
export type AuditStatsBucket = keyof typeof bucketInSeconds;

export interface AuditStats {
  bucket: AuditStatsBucket;
  from: Date;
  to: Date;
  /** The start of every bucket in the range, oldest first; each series has one count per bucket. */
  at: Date[];
  series: Record<Series, number[]>;
  /** Challenges (sign-in and refresh) by the reason the checks gave; one challenge may give several. */
  challengeReasons: Array<{ reason: string; counts: number[] }>;
  totals: Record<Series, number>;
}

/** `at` rounded down to the start of its UTC hour or day. */
export function bucketStart(at: Date, bucket: AuditStatsBucket): Date {
  const size = bucketInSeconds[bucket] * 1000;
  return new Date(Math.floor(at.getTime() / size) * size);
}

/**
 * Counts of sign-ins, failures, challenges (and their reasons) and refresh-token reuse per hour
 * or day over [from, to). The caller bounds the range (`adminAuditStatsInput`: 90 days), so both
 * queries are a range scan of `audit_events_created_at_idx` (created_at) filtered by type:
 * bounded by the rows in the range, never the whole table. Buckets are counted from `from` with
 * TIMESTAMPDIFF, which reads the stored UTC instants without the session's time zone.
 */
export async function auditStats(
  db: Executor,
  input: { from: Date; to: Date; bucket?: AuditStatsBucket | undefined },
): Promise<AuditStats> {
  const bucket = input.bucket ?? 'day';
  const size = bucketInSeconds[bucket];
  const from = bucketStart(input.from, bucket);
  const to = input.to;
  const bucketCount = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / (size * 1000)));
  const at = Array.from({ length: bucketCount }, (_, index) => new Date(from.getTime() + index * size * 1000));
  const allTypes = Object.values(seriesTypes).flat();
  const challengeTypes = seriesTypes.challenges;
  const bucketOf = sql`FLOOR(TIMESTAMPDIFF(SECOND, ${from}, ${auditEvents.createdAt}) / ${size})`;
  const inRange = sql`${auditEvents.createdAt} >= ${from} AND ${auditEvents.createdAt} < ${to}`;

  const [byType] = (await db.execute(sql`
    SELECT ${bucketOf} AS bucket, ${auditEvents.type} AS type, COUNT(*) AS n
    FROM ${auditEvents}
    WHERE ${inRange} AND ${auditEvents.type} IN (${sql.join(
      allTypes.map((type) => sql`${type}`),
      sql`, `,
    )})
    GROUP BY bucket, type
  `)) as unknown as [Array<{ bucket: number | string; type: string; n: number | string }>];

  // The reasons live in the event's JSON (`data.reasons`, an array of strings).
  const [byReason] = (await db.execute(sql`
    SELECT ${bucketOf} AS bucket, reasons.reason AS reason, COUNT(*) AS n
    FROM ${auditEvents},
      JSON_TABLE(${auditEvents.data}, '$.reasons[*]' COLUMNS (reason VARCHAR(64) PATH '$')) AS reasons
    WHERE ${inRange} AND ${auditEvents.type} IN (${sql.join(
      challengeTypes.map((type) => sql`${type}`),
      sql`, `,
    )})
    GROUP BY bucket, reason
  `)) as unknown as [Array<{ bucket: number | string; reason: string | null; n: number | string }>];

  const zeros = () => at.map(() => 0);
  const series: Record<Series, number[]> = { signIns: zeros(), failures: zeros(), challenges: zeros(), reuseDetections: zeros() };
  const seriesOf = new Map<string, Series>();
  for (const [name, types] of Object.entries(seriesTypes) as Array<[Series, readonly string[]]>)
    for (const type of types) seriesOf.set(type, name);
  for (const row of byType) {
    const name = seriesOf.get(row.type);
    const index = Number(row.bucket);
    if (name && index >= 0 && index < bucketCount) series[name][index] = (series[name][index] ?? 0) + Number(row.n);
  }
  const reasons = new Map<string, number[]>();
  for (const row of byReason) {
    const index = Number(row.bucket);
    if (!row.reason || index < 0 || index >= bucketCount) continue;
    const counts = reasons.get(row.reason) ?? zeros();
    counts[index] = (counts[index] ?? 0) + Number(row.n);
    reasons.set(row.reason, counts);
  }
  const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0);
  return {
    bucket,
    from,
    to,
    at,
    series,
    challengeReasons: [...reasons].map(([reason, counts]) => ({ reason, counts })).sort((a, b) => sum(b.counts) - sum(a.counts)),
    totals: {
      signIns: sum(series.signIns),
      failures: sum(series.failures),
      challenges: sum(series.challenges),
      reuseDetections: sum(series.reuseDetections),
    },
  };
}
