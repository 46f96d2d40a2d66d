import { and, desc, eq, gt, isNull, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { devices, type SessionVerdict, sessions } from '../../db/tables';
import { addSeconds } from '../clock';
import type { DeviceType } from '../devices/clientInfo';

export interface SessionSummary {
  id: string;
  current: boolean;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  location: { country: string | null; region: string | null; city: string | null } | null;
  device: { browser: string | null; os: string | null; type: DeviceType };
  trusted: boolean;
  /**
   * What the checks concluded about the session (docs/api.md, sign-in risk): `outcome` and
   * `reasons` say whether it was asked for proof (and why), let through with findings of checks
   * in log mode, or passed; the other fields are the last assessment's own. Null for sessions
   * opened before sign-ins were judged, until their first refresh.
   */
  verdict: {
    outcome: 'challenged' | 'passed' | 'logged';
    decision: 'pass' | 'challenge' | 'deny';
    reasons: string[];
    logged: string[];
    at: Date;
    lastChallenge: { reasons: string[]; at: Date } | null;
  } | null;
}

/** A user's live sessions: not revoked, not past their absolute lifetime, not idle past the limit. */
export function liveSessionsOf(userId: string, now: Date, idleInSeconds: number): SQL | undefined {
  return and(
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
    gt(sessions.lastUsedAt, addSeconds(now, -idleInSeconds)),
  );
}

/** Live sessions of a user (not revoked, not expired, not idle past the limit), most recently used first. */
export async function listActiveSessions(
  executor: Executor,
  input: { userId: string; now: Date; idleInSeconds: number },
): Promise<Omit<SessionSummary, 'current'>[]> {
  const { now } = input;
  const rows = await executor
    .select({ session: sessions, trustedAt: devices.trustedAt })
    .from(sessions)
    .innerJoin(devices, eq(devices.id, sessions.deviceId))
    .where(liveSessionsOf(input.userId, now, input.idleInSeconds))
    .orderBy(desc(sessions.lastUsedAt));
  return rows.map(({ session, trustedAt }) => ({
    id: session.id,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    ip: session.ip,
    location: session.country ? { country: session.country, region: session.region, city: session.city } : null,
    device: { browser: session.browser, os: session.os, type: session.deviceType as DeviceType },
    trusted: trustedAt !== null,
    verdict: session.lastVerdict
      ? {
          ...outcomeOf(session.lastVerdict),
          decision: session.lastVerdict.decision,
          logged: session.lastVerdict.logged,
          at: new Date(session.lastVerdict.at),
          lastChallenge: session.lastVerdict.lastChallenge
            ? { reasons: session.lastVerdict.lastChallenge.reasons, at: new Date(session.lastVerdict.lastChallenge.at) }
            : null,
        }
      : null,
  }));
}

/** A stored verdict in the terms users read: challenged (and why), logged findings, or passed. */
function outcomeOf(verdict: SessionVerdict): { outcome: 'challenged' | 'passed' | 'logged'; reasons: string[] } {
  if (verdict.decision !== 'pass') return { outcome: 'challenged', reasons: verdict.reasons };
  if (verdict.lastChallenge) return { outcome: 'challenged', reasons: verdict.lastChallenge.reasons };
  if (verdict.logged.length > 0) return { outcome: 'logged', reasons: verdict.logged };
  return { outcome: 'passed', reasons: [] };
}
