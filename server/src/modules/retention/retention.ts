import { and, eq, inArray, isNotNull, lt, notExists, or, type SQL } from 'drizzle-orm';
import type { MySqlColumn, MySqlTable } from 'drizzle-orm/mysql-core';
import type { Database } from '../../db/client';
import {
  apiKeys,
  auditEvents,
  challenges,
  devices,
  links,
  outboxMessages,
  refreshTokens,
  samlAssertions,
  sessions,
  stepUpTokens,
} from '../../db/tables';
import { addSeconds } from '../clock';

/**
 * Retention: what the service no longer needs is deleted, so tables do not grow forever and
 * personal data is not kept longer than its purpose (GDPR art. 5(1)(e), storage limitation;
 * OWASP ASVS 4.0 V8.3.8: sensitive data retention). Each pass finds a small batch of ids with a
 * plain read on an index (no lock), then deletes those rows by primary key, re-checking the
 * condition: no batch ever holds a row a sign-in or refresh is working on.
 */

export interface RetentionPolicy {
  /** Audit events older than this are deleted (default 400 days). */
  auditRetentionInDays: number;
  /** Devices not seen for this long, with no session left, are forgotten (default 180 days). */
  deviceRetentionInDays: number;
  /** Revoked and expired sessions, challenges, links and step-up tokens are kept this long for support (default 1 day). */
  expiredGraceInSeconds: number;
  /** Delivered outbox messages (their body already erased) are kept this long, to answer "was it sent?" (default 7 days). */
  deliveredMailRetentionInDays: number;
  /** API keys revoked or expired this long ago are deleted (default 30 days: `apiKeys.list` no longer shows them by then). */
  deadApiKeyRetentionInDays: number;
  batchSize: number;
}

export const defaultRetentionPolicy: RetentionPolicy = {
  auditRetentionInDays: 400,
  deviceRetentionInDays: 180,
  expiredGraceInSeconds: 24 * 3600,
  deliveredMailRetentionInDays: 7,
  deadApiKeyRetentionInDays: 30,
  batchSize: 500,
};

export type SweptCounts = Record<
  | 'sessions'
  | 'refreshTokens'
  | 'challenges'
  | 'links'
  | 'stepUpTokens'
  | 'devices'
  | 'auditEvents'
  | 'outboxMessages'
  | 'apiKeys'
  | 'samlAssertions',
  number
>;

/** Deletes, batch by batch, the rows of `table` whose ids `find` returns, until a batch comes back short. */
async function sweepBatches(
  db: Database,
  table: MySqlTable,
  id: MySqlColumn,
  condition: SQL | undefined,
  batchSize: number,
  maxBatches: number,
): Promise<number> {
  let swept = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const rows = (await db.select({ id }).from(table).where(condition).limit(batchSize)) as Array<{ id: string }>;
    if (rows.length === 0) break;
    const ids = rows.map((row) => row.id);
    const [result] = await db.delete(table).where(and(inArray(id, ids), condition));
    swept += result.affectedRows;
    if (rows.length < batchSize) break;
  }
  return swept;
}

/**
 * One retention pass. Sessions go with their refresh-token rows (the tokens first, so no token
 * is left without its session); a device goes only once no session names it.
 */
export async function sweepRetention(
  db: Database,
  now: Date,
  policy: RetentionPolicy = defaultRetentionPolicy,
  maxBatches = 20,
): Promise<SweptCounts> {
  const cutoff = addSeconds(now, -policy.expiredGraceInSeconds);
  const counts: SweptCounts = {
    sessions: 0,
    refreshTokens: 0,
    challenges: 0,
    links: 0,
    stepUpTokens: 0,
    devices: 0,
    auditEvents: 0,
    outboxMessages: 0,
    apiKeys: 0,
    samlAssertions: 0,
  };

  const deadSession = or(lt(sessions.expiresAt, cutoff), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, cutoff)));
  for (let batch = 0; batch < maxBatches; batch++) {
    const dead = await db.select({ id: sessions.id }).from(sessions).where(deadSession).limit(policy.batchSize);
    if (dead.length === 0) break;
    const ids = dead.map((row) => row.id);
    counts.refreshTokens += await sweepBatches(
      db,
      refreshTokens,
      refreshTokens.id,
      inArray(refreshTokens.sessionId, ids),
      policy.batchSize,
      1_000,
    );
    const [result] = await db.delete(sessions).where(and(inArray(sessions.id, ids), deadSession));
    counts.sessions += result.affectedRows;
    if (dead.length < policy.batchSize) break;
  }

  counts.challenges = await sweepBatches(db, challenges, challenges.id, lt(challenges.expiresAt, cutoff), policy.batchSize, maxBatches);
  counts.links = await sweepBatches(db, links, links.id, lt(links.expiresAt, cutoff), policy.batchSize, maxBatches);
  counts.stepUpTokens = await sweepBatches(
    db,
    stepUpTokens,
    stepUpTokens.tokenHash,
    lt(stepUpTokens.expiresAt, cutoff),
    policy.batchSize,
    maxBatches,
  );
  counts.devices = await sweepBatches(
    db,
    devices,
    devices.id,
    and(
      lt(devices.lastSeenAt, addSeconds(now, -policy.deviceRetentionInDays * 24 * 3600)),
      notExists(db.select({ one: sessions.id }).from(sessions).where(eq(sessions.deviceId, devices.id))),
    ),
    policy.batchSize,
    maxBatches,
  );
  counts.auditEvents = await sweepBatches(
    db,
    auditEvents,
    auditEvents.id,
    lt(auditEvents.createdAt, addSeconds(now, -policy.auditRetentionInDays * 24 * 3600)),
    policy.batchSize,
    maxBatches,
  );
  counts.outboxMessages = await sweepBatches(
    db,
    outboxMessages,
    outboxMessages.id,
    and(
      eq(outboxMessages.state, 'delivered'),
      lt(outboxMessages.deliveredAt, addSeconds(now, -policy.deliveredMailRetentionInDays * 24 * 3600)),
    ),
    policy.batchSize,
    maxBatches,
  );
  const deadKeysBefore = addSeconds(now, -policy.deadApiKeyRetentionInDays * 24 * 3600);
  counts.apiKeys = await sweepBatches(
    db,
    apiKeys,
    apiKeys.id,
    or(lt(apiKeys.revokedAt, deadKeysBefore), lt(apiKeys.expiresAt, deadKeysBefore)),
    policy.batchSize,
    maxBatches,
  );
  // SAML assertions past their NotOnOrAfter can no longer be accepted: their replay-cache rows go.
  counts.samlAssertions = await sweepBatches(
    db,
    samlAssertions,
    samlAssertions.idHash,
    lt(samlAssertions.expiresAt, cutoff),
    policy.batchSize,
    maxBatches,
  );
  return counts;
}
