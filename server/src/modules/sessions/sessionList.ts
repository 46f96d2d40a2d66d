import { and, desc, eq, gt, isNull, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { devices, sessions } from '../../db/tables';
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
  /** Why the last refresh was let through or asked for proof (null before the first refresh). */
  verdict: {
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
          decision: session.lastVerdict.decision,
          reasons: session.lastVerdict.reasons,
          logged: session.lastVerdict.logged,
          at: new Date(session.lastVerdict.at),
          lastChallenge: session.lastVerdict.lastChallenge
            ? { reasons: session.lastVerdict.lastChallenge.reasons, at: new Date(session.lastVerdict.lastChallenge.at) }
            : null,
        }
      : null,
  }));
}
