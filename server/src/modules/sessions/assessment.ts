import { sql } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { type DeviceRow, refreshTokens, type SessionRow, type SessionVerdict, sessions } from '../../db/tables';
import type { AnomalyConfig, CheckObserver } from '../anomaly/config';
import { assess, type Verdict } from '../anomaly/pipeline';
import { addSeconds } from '../clock';
import type { ClientDescription } from '../devices/describe';
import { withSpan } from '../telemetry/tracing';

/**
 * The refresh assessment: gathers what the anomaly checks need about a session (its device,
 * the user's live sessions, the session's recent refreshes) and runs them (docs/security.md,
 * anomaly checks).
 */
export async function assessRefresh(
  tx: Transaction,
  input: { session: SessionRow; device: DeviceRow; request: ClientDescription; now: Date },
  anomaly: AnomalyConfig,
  observe?: CheckObserver,
): Promise<Verdict> {
  return withSpan('anomaly.refresh', async (span) => {
    const verdict = await assessRefreshNow(tx, input, anomaly, observe);
    span.setAttributes(verdictAttributes(verdict));
    return verdict;
  });
}

async function assessRefreshNow(
  tx: Transaction,
  input: { session: SessionRow; device: DeviceRow; request: ClientDescription; now: Date },
  anomaly: AnomalyConfig,
  observe?: CheckObserver,
): Promise<Verdict> {
  const { session, device, request, now } = input;
  // One round trip, and each count stops one past its limit: the checks only ask "over?",
  // so a busy session never costs a long scan.
  const since = addSeconds(now, -anomaly.refreshWindowInSeconds);
  const [rows] = (await tx.execute(sql`
    SELECT
      (SELECT COUNT(*) FROM (SELECT 1 FROM ${sessions}
         WHERE ${sessions.userId} = ${session.userId} AND ${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${now}
         LIMIT ${anomaly.maxActiveSessionsPerUser + 1}) AS live) AS activeSessions,
      (SELECT COUNT(*) FROM (SELECT 1 FROM ${refreshTokens}
         WHERE ${refreshTokens.sessionId} = ${session.id} AND ${refreshTokens.createdAt} > ${since}
         LIMIT ${anomaly.maxRefreshesPerSession + 1}) AS recent) AS refreshesInWindow
  `)) as unknown as [Array<{ activeSessions: number | string; refreshesInWindow: number | string }>];
  const counts = rows[0];
  return assess(
    {
      now,
      session: { createdAt: session.createdAt, lastUsedAt: session.lastUsedAt },
      device: {
        canaryHash: device.canaryHash,
        trusted: device.trustedAt !== null,
        country: device.country,
        city: device.city,
        browser: device.browser,
        os: device.os,
        deviceType: device.deviceType,
        network: device.network,
        asn: device.asn,
        userAgent: device.userAgent,
        lastLatitude: device.lastLatitude,
        lastLongitude: device.lastLongitude,
        lastLocatedAt: device.lastLocatedAt,
      },
      request,
      activeSessions: Number(counts?.activeSessions ?? 0),
      refreshesInWindow: Number(counts?.refreshesInWindow ?? 0),
    },
    anomaly,
    observe,
  );
}

/** What a span records of a verdict: the decision and the checks' machine reasons, never their evidence. */
export function verdictAttributes(verdict: Pick<SessionVerdict, 'decision' | 'reasons' | 'logged'>): Record<string, string | string[]> {
  return { 'iam.anomaly.decision': verdict.decision, 'iam.anomaly.reasons': verdict.reasons, 'iam.anomaly.logged': verdict.logged };
}

/** The verdict as stored on the session (without its evidence), carrying the latest challenge forward. */
export function storedVerdict(verdict: Verdict, previous?: SessionVerdict | null): SessionVerdict {
  const lastChallenge =
    verdict.decision === 'challenge'
      ? { reasons: verdict.reasons, at: verdict.at }
      : previous?.decision === 'challenge'
        ? { reasons: previous.reasons, at: previous.at }
        : previous?.lastChallenge;
  return {
    decision: verdict.decision,
    reasons: verdict.reasons,
    logged: verdict.logged,
    at: verdict.at,
    ...(lastChallenge ? { lastChallenge } : {}),
  };
}
