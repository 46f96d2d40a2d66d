import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Lifetimes } from '../../config';
import type { Database, Transaction } from '../../db/client';
import { devices, refreshTokens, sessions } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { constantTimeEqual, sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';
import { type ClientInfo, type DeviceType, parseUserAgent } from '../devices/clientInfo';
import { canaryHash, touchDevice, upsertDevice } from '../devices/devices';
import { IamError } from '../errors/iamError';
import type { RevocationSet } from '../tokens/revocations';

/** RFC 9700 §4.14.2 and NIST SP 800-63B §5.1.1: 256 bits from a CSPRNG, only the hash stored. */
const refreshTokenBytes = 32;
const successorPurpose = 'refresh-successor';
/** How many rotations a grace retry may walk forward to find the live token. */
const maxGraceChainLength = 8;

export type RevokeReason = 'logout' | 'user' | 'user_all' | 'refresh_reuse' | 'password_change' | 'password_reset' | 'admin';

export interface CreatedSession {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
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
}

export type RotationResult = { userId: string; sessionId: string; refreshToken: string; expiresAt: Date };

export function hashRefreshToken(token: string): string {
  return sha256Hex(`refresh:${token}`);
}

export function createSessionService(deps: { db: Database; clock: Clock; lifetimes: Lifetimes; revocations: RevocationSet }) {
  const { db, clock, lifetimes, revocations } = deps;

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
    async create(tx: Transaction, input: { userId: string; client: ClientInfo }): Promise<CreatedSession> {
      const now = clock.now();
      const fallbackCanary = randomToken();
      const deviceId = await upsertDevice(tx, { userId: input.userId, client: input.client, now, fallbackCanary });
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
      });
      const { token } = await insertRefreshToken(tx, sessionId, 0, null, now);
      await recordAudit(tx, { type: 'session.created', at: now, userId: input.userId, sessionId, client: input.client });
      return { sessionId, refreshToken: token, expiresAt };
    },

    /**
     * Rotates a refresh token (RFC 9700 §4.14.2) in one transaction, the presented row locked
     * with SELECT … FOR UPDATE so concurrent presentations are serialised. A token already
     * rotated is answered with the same successor when it comes back within the grace window
     * from the session's own device (a lost response, two tabs); any other reuse is theft:
     * the whole session is revoked and audited.
     */
    async rotate(presented: string, client: ClientInfo): Promise<RotationResult> {
      const now = clock.now();
      const outcome = await db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(refreshTokens)
          .where(eq(refreshTokens.tokenHash, hashRefreshToken(presented)))
          .for('update');
        if (!row) return { kind: 'invalid' } as const;
        const [session] = await tx
          .select({ session: sessions, canaryHash: devices.canaryHash })
          .from(sessions)
          .innerJoin(devices, eq(devices.id, sessions.deviceId))
          .where(eq(sessions.id, row.sessionId))
          .limit(1);
        if (!session || session.session.revokedAt) return { kind: 'invalid' } as const;
        const { session: live } = session;
        if (live.expiresAt <= now || addSeconds(live.lastUsedAt, lifetimes.sessionIdleInSeconds) <= now) {
          return { kind: 'invalid' } as const;
        }

        if (row.usedAt === null) {
          const successor = await insertRefreshToken(tx, live.id, row.generation + 1, row.id, now);
          await tx
            .update(refreshTokens)
            .set({ usedAt: now, successorSealed: sealSuccessor(presented, row.id, successor.token) })
            .where(eq(refreshTokens.id, row.id));
          await tx
            .update(sessions)
            .set({ lastUsedAt: now, ip: client.ip, userAgent: client.userAgent?.slice(0, 512) ?? null })
            .where(eq(sessions.id, live.id));
          await touchDevice(tx, live.deviceId, client, now);
          return { kind: 'rotated', userId: live.userId, sessionId: live.id, token: successor.token, expiresAt: live.expiresAt } as const;
        }

        const sameDevice = client.canary !== null && constantTimeEqual(canaryHash(client.canary), session.canaryHash);
        const live_ = sameDevice ? await followGraceChain(tx, presented, row, now) : null;
        if (live_) return { kind: 'rotated', userId: live.userId, sessionId: live.id, token: live_, expiresAt: live.expiresAt } as const;

        await revokeInTransaction(tx, [live.id], 'refresh_reuse', now, client);
        await recordAudit(tx, {
          type: 'session.refresh_reused',
          at: now,
          userId: live.userId,
          sessionId: live.id,
          client,
          data: { generation: row.generation, usedAt: row.usedAt.toISOString(), sameDevice },
        });
        return { kind: 'reused', sessionId: live.id, userId: live.userId } as const;
      });

      if (outcome.kind === 'invalid') throw new IamError('REFRESH_TOKEN_INVALID');
      if (outcome.kind === 'reused') {
        revocations.add(outcome.sessionId, now);
        throw new IamError('REFRESH_TOKEN_REUSED');
      }
      return { userId: outcome.userId, sessionId: outcome.sessionId, refreshToken: outcome.token, expiresAt: outcome.expiresAt };
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
        location: null,
        device: { browser: session.browser, os: session.os, type: session.deviceType as DeviceType },
        trusted: trustedAt !== null,
      }));
    },
  };

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
