import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../../db/client';
import {
  type DeviceRow,
  devices,
  refreshTokens,
  type SessionRow,
  type SessionVerdict,
  sessions,
  type UserRow,
  users,
} from '../../db/tables';
import type { AnomalyConfig } from '../anomaly/config';
import { assess, type Verdict } from '../anomaly/pipeline';
import { recordAudit } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { constantTimeEqual, sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';
import { canaryHash } from '../devices/canary';
import { type ClientInfo, type DeviceType, parseUserAgent } from '../devices/clientInfo';
import { type ClientDescription, describeClient, placeOf } from '../devices/describe';
import { proveDevice, touchDevice, upsertDevice } from '../devices/devices';
import { IamError } from '../errors/iamError';
import type { Lifetimes } from '../lifetimes';
import type { RevocationSet } from '../tokens/revocations';

/** RFC 9700 §4.14.2 and NIST SP 800-63B §5.1.1: 256 bits from a CSPRNG, only the hash stored. */
const refreshTokenBytes = 32;
const successorPurpose = 'refresh-successor';
/** How many rotations a grace retry may walk forward to find the live token. */
const maxGraceChainLength = 8;

export type RevokeReason =
  | 'logout'
  | 'user'
  | 'user_all'
  | 'refresh_reuse'
  | 'password_change'
  | 'password_reset'
  | 'email_change'
  | 'not_me'
  | 'admin';

export interface CreatedSession {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
  /** Set when the session opened on a device the account had not used, next to others. */
  newDevice?: ClientInfo;
}

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

/**
 * - rotated: the successor token;
 * - challenged: the anomaly checks asked for proof, nothing was rotated;
 * - reused: a rotated token came back outside the grace window: the session is revoked.
 */
export type RotationOutcome =
  | { kind: 'rotated'; user: UserRow; sessionId: string; refreshToken: string; expiresAt: Date }
  | { kind: 'challenged'; user: UserRow; sessionId: string; verdict: Verdict }
  | { kind: 'reused'; user: UserRow; sessionId: string };

/** The verdict as stored on the session, carrying the latest challenge forward. */
function withoutEvidence(verdict: Verdict, previous?: SessionVerdict | null): SessionVerdict {
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

export function hashRefreshToken(token: string): string {
  return sha256Hex(`refresh:${token}`);
}

export function createSessionService(deps: {
  db: Database;
  clock: Clock;
  lifetimes: Lifetimes;
  revocations: RevocationSet;
  anomaly: AnomalyConfig;
}) {
  const { db, clock, lifetimes, revocations, anomaly } = deps;

  function sealSuccessor(presented: string, rowId: string, successor: string): string {
    return seal(deriveKey(presented, successorPurpose), successor, `${successorPurpose}:${rowId}`);
  }

  function openSuccessor(presented: string, rowId: string, sealed: string): string | null {
    return open(deriveKey(presented, successorPurpose), sealed, `${successorPurpose}:${rowId}`);
  }

  async function insertRefreshToken(tx: Transaction, sessionId: string, generation: number, parentId: string | null, now: Date) {
    const token = randomToken(refreshTokenBytes);
    const id = newId('refreshToken');
    await tx.insert(refreshTokens).values({ id, sessionId, tokenHash: hashRefreshToken(token), parentId, generation, createdAt: now });
    return { id, token };
  }

  async function revokeInTransaction(tx: Transaction, sessionIds: string[], reason: RevokeReason, now: Date, client?: ClientInfo) {
    let count = 0;
    for (const sessionId of sessionIds) {
      const [result] = await tx
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
      if (result.affectedRows > 0) {
        count++;
        await recordAudit(tx, { type: 'session.revoked', at: now, sessionId, client, data: { reason } });
      }
    }
    return count;
  }

  async function revoke(sessionIds: string[], reason: RevokeReason, client?: ClientInfo): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const now = clock.now();
    const count = await db.transaction((tx) => revokeInTransaction(tx, sessionIds, reason, now, client));
    for (const id of sessionIds) revocations.add(id, now);
    return count;
  }

  return {
    /** Opens a session for a user who just proved who they are; call inside the proving transaction. */
    async create(tx: Transaction, input: { userId: string; client: ClientInfo; trusted?: boolean }): Promise<CreatedSession> {
      const now = clock.now();
      const fallbackCanary = randomToken();
      const description = describeClient(input.client, anomaly);
      const { deviceId, known, otherDevices } = await upsertDevice(tx, {
        userId: input.userId,
        client: input.client,
        description,
        now,
        fallbackCanary,
        trusted: input.trusted ?? false,
      });
      const agent = parseUserAgent(input.client.userAgent);
      const sessionId = newId('session');
      const expiresAt = addSeconds(now, lifetimes.sessionMaxInSeconds);
      await tx.insert(sessions).values({
        id: sessionId,
        userId: input.userId,
        deviceId,
        createdAt: now,
        lastUsedAt: now,
        expiresAt,
        ip: input.client.ip,
        userAgent: input.client.userAgent?.slice(0, 512) ?? null,
        browser: agent.browser,
        os: agent.os,
        deviceType: agent.type,
        ...placeOf(description),
      });
      const { token } = await insertRefreshToken(tx, sessionId, 0, null, now);
      await recordAudit(tx, { type: 'session.created', at: now, userId: input.userId, sessionId, client: input.client });
      // A first sign-in from a new device of an account that has others is worth telling the owner.
      return { sessionId, refreshToken: token, expiresAt, ...(!known && otherDevices > 0 ? { newDevice: input.client } : {}) };
    },

    /**
     * Rotates a refresh token (RFC 9700 §4.14.2) in one transaction, the presented row locked
     * with SELECT … FOR UPDATE so concurrent presentations are serialised. A token already
     * rotated is answered with the same successor when it comes back within the grace window
     * from the session's own device (a lost response, two tabs); any other reuse is theft:
     * the whole session is revoked and audited.
     */
    async rotate(presented: string, client: ClientInfo): Promise<RotationOutcome> {
      const now = clock.now();
      const description = describeClient(client, anomaly);
      const outcome = await db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(refreshTokens)
          .where(eq(refreshTokens.tokenHash, hashRefreshToken(presented)))
          .for('update');
        if (!row) return { kind: 'invalid' } as const;
        const [session] = await tx
          .select({ session: sessions, device: devices, canaryHash: devices.canaryHash, user: users })
          .from(sessions)
          .innerJoin(devices, eq(devices.id, sessions.deviceId))
          .innerJoin(users, eq(users.id, sessions.userId))
          .where(eq(sessions.id, row.sessionId))
          .limit(1);
        if (!session || session.session.revokedAt) return { kind: 'invalid' } as const;
        const { session: live, user } = session;
        if (live.expiresAt <= now || addSeconds(live.lastUsedAt, lifetimes.sessionIdleInSeconds) <= now) {
          return { kind: 'invalid' } as const;
        }

        if (row.usedAt === null) {
          const verdict = await assessRefresh(tx, live, session.device, description, now);
          if (verdict.decision !== 'pass') {
            // API.md: a challenge rotates nothing and revokes nothing.
            await tx
              .update(sessions)
              .set({ lastVerdict: withoutEvidence(verdict) })
              .where(eq(sessions.id, live.id));
            return { kind: 'challenge', user, sessionId: live.id, verdict } as const;
          }
          const successor = await insertRefreshToken(tx, live.id, row.generation + 1, row.id, now);
          await tx
            .update(refreshTokens)
            .set({ usedAt: now, successorSealed: sealSuccessor(presented, row.id, successor.token) })
            .where(eq(refreshTokens.id, row.id));
          await tx
            .update(sessions)
            .set({
              lastUsedAt: now,
              ip: client.ip,
              userAgent: client.userAgent?.slice(0, 512) ?? null,
              // Where it is now, or where it was last known to be.
              ...(description.geo ? placeOf(description) : {}),
              lastVerdict: withoutEvidence(verdict, live.lastVerdict),
            })
            .where(eq(sessions.id, live.id));
          await touchDevice(tx, live.deviceId, client, description, now);
          return { kind: 'rotated', user, sessionId: live.id, token: successor.token, expiresAt: live.expiresAt } as const;
        }

        const sameDevice = client.canary !== null && constantTimeEqual(canaryHash(client.canary), session.canaryHash);
        const live_ = sameDevice ? await followGraceChain(tx, presented, row, now) : null;
        if (live_) return { kind: 'rotated', user, sessionId: live.id, token: live_, expiresAt: live.expiresAt } as const;

        await revokeInTransaction(tx, [live.id], 'refresh_reuse', now, client);
        await recordAudit(tx, {
          type: 'session.refresh_reused',
          at: now,
          userId: live.userId,
          sessionId: live.id,
          client,
          data: { generation: row.generation, usedAt: row.usedAt.toISOString(), sameDevice },
        });
        return { kind: 'reused', sessionId: live.id, user } as const;
      });

      if (outcome.kind === 'invalid') throw new IamError('REFRESH_TOKEN_INVALID');
      if (outcome.kind === 'challenge')
        return { kind: 'challenged', user: outcome.user, sessionId: outcome.sessionId, verdict: outcome.verdict };
      if (outcome.kind === 'reused') {
        revocations.add(outcome.sessionId, now);
        return { kind: 'reused', user: outcome.user, sessionId: outcome.sessionId };
      }
      return {
        kind: 'rotated',
        user: outcome.user,
        sessionId: outcome.sessionId,
        refreshToken: outcome.token,
        expiresAt: outcome.expiresAt,
      };
    },

    /**
     * After a refresh challenge was passed: when the completing client is the session's own
     * device, the device is proven anew (trusted, fingerprint updated) and the session
     * continues with a fresh refresh token (the ones outstanding are spent). Null when the
     * session is gone or the completer is another device.
     */
    async continueOnProvenDevice(tx: Transaction, sessionId: string, client: ClientInfo): Promise<CreatedSession | null> {
      const now = clock.now();
      const [row] = await tx
        .select({ session: sessions, device: devices })
        .from(sessions)
        .innerJoin(devices, eq(devices.id, sessions.deviceId))
        .where(eq(sessions.id, sessionId))
        .for('update');
      if (!row || row.session.revokedAt || row.session.expiresAt <= now) return null;
      if (!client.canary || !constantTimeEqual(canaryHash(client.canary), row.device.canaryHash)) return null;
      const description = describeClient(client, anomaly);
      await proveDevice(tx, row.device.id, client, description, now);
      const [latest] = await tx
        .select({ generation: refreshTokens.generation })
        .from(refreshTokens)
        .where(eq(refreshTokens.sessionId, sessionId))
        .orderBy(desc(refreshTokens.generation))
        .limit(1);
      await tx
        .update(refreshTokens)
        .set({ usedAt: now })
        .where(and(eq(refreshTokens.sessionId, sessionId), isNull(refreshTokens.usedAt)));
      const { token } = await insertRefreshToken(tx, sessionId, (latest?.generation ?? 0) + 1, null, now);
      await tx
        .update(sessions)
        .set({
          lastUsedAt: now,
          ip: client.ip,
          ...placeOf(description),
          lastVerdict: { decision: 'pass', reasons: ['challenge_passed'], logged: [], at: now.toISOString() },
        })
        .where(eq(sessions.id, sessionId));
      return { sessionId, refreshToken: token, expiresAt: row.session.expiresAt };
    },

    /** Revokes sessions; every instance rejects their access tokens within a second. */
    revoke,

    /** Revokes every live session of a user (password reset or change), but `except`. */
    async revokeAllOfUser(userId: string, reason: RevokeReason, client?: ClientInfo, options: { except?: string } = {}): Promise<number> {
      const live = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
      return revoke(
        live.map((row) => row.id).filter((id) => id !== options.except),
        reason,
        client,
      );
    },

    /** The session a refresh token belongs to, whatever its state; for logout. */
    async sessionOfRefreshToken(presented: string): Promise<{ sessionId: string; userId: string } | null> {
      const [row] = await db
        .select({ sessionId: sessions.id, userId: sessions.userId })
        .from(refreshTokens)
        .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
        .where(eq(refreshTokens.tokenHash, hashRefreshToken(presented)))
        .limit(1);
      return row ?? null;
    },

    async find(sessionId: string) {
      const [row] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
      return row ?? null;
    },

    /** Live sessions of a user, most recently used first. */
    async listActive(userId: string): Promise<Omit<SessionSummary, 'current'>[]> {
      const now = clock.now();
      const rows = await db
        .select({ session: sessions, trustedAt: devices.trustedAt })
        .from(sessions)
        .innerJoin(devices, eq(devices.id, sessions.deviceId))
        .where(
          and(
            eq(sessions.userId, userId),
            isNull(sessions.revokedAt),
            gt(sessions.expiresAt, now),
            gt(sessions.lastUsedAt, addSeconds(now, -lifetimes.sessionIdleInSeconds)),
          ),
        )
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
    },
  };

  /** Gathers what the checks need about this session and runs them (DESIGN.md, Anomaly detection). */
  async function assessRefresh(
    tx: Transaction,
    session: SessionRow,
    device: DeviceRow,
    request: ClientDescription,
    now: Date,
  ): Promise<Verdict> {
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
    );
  }

  async function followGraceChain(
    tx: Transaction,
    presented: string,
    row: typeof refreshTokens.$inferSelect,
    now: Date,
  ): Promise<string | null> {
    let token = presented;
    let current = row;
    for (let step = 0; step < maxGraceChainLength; step++) {
      if (current.usedAt === null) return step === 0 ? null : token;
      if (now.getTime() - current.usedAt.getTime() > lifetimes.refreshGraceInSeconds * 1000) return null;
      if (!current.successorSealed) return null;
      const successor = openSuccessor(token, current.id, current.successorSealed);
      if (successor === null) return null;
      const [next] = await tx
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, hashRefreshToken(successor)))
        .for('update');
      if (!next) return null;
      token = successor;
      current = next;
    }
    return null;
  }
}

export type SessionService = ReturnType<typeof createSessionService>;
