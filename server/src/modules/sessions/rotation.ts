import { and, eq, sql } from 'drizzle-orm';
import { type Database, type Executor, isTransientConflictError, runTransaction, type Transaction } from '../../db/client';
import {
  devices,
  organizationMembers,
  type RefreshTokenRow,
  refreshTokens,
  type SessionRow,
  sessions,
  type UserRow,
  users,
} from '../../db/tables';
import type { AnomalyConfig, CheckObserver } from '../anomaly/config';
import type { Verdict } from '../anomaly/pipeline';
import { recordAudit } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { constantTimeEqual } from '../crypto/hash';
import { canaryHash } from '../devices/canary';
import type { ClientInfo } from '../devices/clientInfo';
import { type ClientDescription, describeClient, locationOf, placeOf } from '../devices/describe';
import { IamError } from '../errors/iamError';
import type { Lifetimes } from '../lifetimes';
import { withSpan } from '../telemetry/tracing';
import type { TokenOrganization } from '../tokens/accessToken';
import type { RevocationSet } from '../tokens/revocations';
import { judgeRefresh, storedVerdict } from './assessment';
import { followGraceChain, hashRefreshToken, lockRefreshToken, newRefreshToken, sealSuccessor } from './refreshTokens';

/**
 * The one answer of a rotation (an unknown, expired or revoked token throws `REFRESH_TOKEN_INVALID`):
 * - rotated: the successor token;
 * - challenged: the anomaly checks asked for proof, nothing was rotated;
 * - reused: a rotated token came back outside the grace window: the session is revoked.
 */
export type RotationOutcome =
  | {
      kind: 'rotated';
      user: UserRow;
      sessionId: string;
      refreshToken: string;
      expiresAt: Date;
      /** The session's active organization while the user is still a member of it (the new token's `org` claims). */
      organization: TokenOrganization | null;
    }
  | { kind: 'challenged'; user: UserRow; sessionId: string; verdict: Verdict }
  | { kind: 'reused'; user: UserRow; sessionId: string };

/** What the caller adds to a rotation's transaction. */
export interface RotationHooks {
  /** Runs in the transaction that revokes a session for reuse (to queue the owner's alert with it). */
  onReused?: (tx: Transaction, user: UserRow, sessionId: string) => Promise<void>;
  /** Runs in the transaction that records a refresh challenge (to queue its security event with it). */
  onChallenged?: (tx: Transaction, user: UserRow, sessionId: string, verdict: Verdict) => Promise<void>;
}

/**
 * Refresh-token rotation (RFC 9700 §4.14.2: rotation with reuse detection), built for the hot
 * path: a live token rotates in three statements and no explicit transaction.
 *
 * 1. One read of everything the refresh needs: the presented token's row, its session, device
 *    and user, and the two counts the anomaly checks ask about (each stops one past its limit).
 * 2. The successor's row is inserted.
 * 3. One compare-and-set UPDATE spends the presented token (`used_at IS NULL` in its WHERE),
 *    seals the successor under it, and touches the session and the device, atomically. If it
 *    changes nothing, another request spent the token (or revoked the session) between 1 and
 *    3: the successor's row is deleted and the token is read again, now as spent, which the
 *    grace window answers with the winner's successor, or as theft.
 *
 * What a crash between 2 and 3 leaves is an unspent row nobody holds the token of (only its
 * hash is stored). The rare paths (a spent token, a challenge, the hourly audit) run in a
 * transaction, the spent one under SELECT … FOR UPDATE as before. Every step is safe to run
 * again whole: a deadlock or a cluster's certification failure retries it.
 */
export function createRotation(deps: {
  db: Database;
  clock: Clock;
  lifetimes: Lifetimes;
  revocations: RevocationSet;
  anomaly: AnomalyConfig;
  onCheck?: CheckObserver;
  revokeInTransaction: (tx: Transaction, sessionIds: string[], reason: 'refresh_reuse', now: Date, client?: ClientInfo) => Promise<number>;
}) {
  const { db, clock, lifetimes, revocations, anomaly } = deps;

  // One round trip: the token, its session, device and user, and the two counts. `LIMIT 1
  // OFFSET n` yields a row only when more than n rows match, so each count stops one past its
  // limit and a busy session never costs a long scan (both by index: sessions_user_idx,
  // refresh_tokens_session_created_idx).
  const others = sql`others`;
  const activeMembership = and(
    eq(organizationMembers.organizationId, sessions.activeOrganizationId),
    eq(organizationMembers.userId, sessions.userId),
  );
  const organizationOf = (session: SessionRow, role: TokenOrganization['role'] | null): TokenOrganization | null =>
    session.activeOrganizationId && role ? { id: session.activeOrganizationId, role } : null;
  const readStatement = db
    .select({
      token: refreshTokens,
      session: sessions,
      device: devices,
      user: users,
      organizationRole: organizationMembers.role,
      tooManySessions: sql<number | null>`(SELECT 1 FROM ${sessions} AS ${others}
        WHERE ${others}.user_id = ${sessions.userId} AND ${others}.revoked_at IS NULL AND ${others}.expires_at > ${sql.placeholder('now')}
        LIMIT 1 OFFSET ${sql.placeholder('maxSessions')})`.as('too_many_sessions'),
      tooManyRefreshes: sql<number | null>`(SELECT 1 FROM ${refreshTokens} AS ${others}
        WHERE ${others}.session_id = ${refreshTokens.sessionId} AND ${others}.created_at > ${sql.placeholder('since')}
        LIMIT 1 OFFSET ${sql.placeholder('maxRefreshes')})`.as('too_many_refreshes'),
    })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(devices, eq(devices.id, sessions.deviceId))
    .innerJoin(users, eq(users.id, sessions.userId))
    // The session's active organization, by the membership's primary key: a membership that is
    // gone joins nothing, and the new token carries no `org` claim.
    .leftJoin(organizationMembers, activeMembership)
    .where(eq(refreshTokens.tokenHash, sql.placeholder('hash')))
    .limit(1)
    .prepare();

  async function read(hash: string, now: Date) {
    const [found] = await readStatement.execute({
      hash,
      now,
      since: addSeconds(now, -anomaly.refreshWindowInSeconds),
      maxSessions: anomaly.maxActiveSessionsPerUser,
      maxRefreshes: anomaly.maxRefreshesPerSession,
    });
    return found ?? null;
  }

  function isRefreshable(session: SessionRow, now: Date): boolean {
    if (session.revokedAt) return false;
    return session.expiresAt > now && addSeconds(session.lastUsedAt, lifetimes.sessionIdleInSeconds) > now;
  }

  /** Spends the presented token and touches its session and device, only if it is still unspent: the compare-and-set. */
  async function spend(
    executor: Executor,
    input: {
      token: RefreshTokenRow;
      sealed: string;
      client: ClientInfo;
      description: ClientDescription;
      verdict: ReturnType<typeof storedVerdict>;
      now: Date;
    },
  ): Promise<boolean> {
    const { token, client, description, now } = input;
    const place = description.geo ? placeOf(description) : null;
    const location = locationOf(description, now);
    const [result] = await executor.execute(sql`
      UPDATE ${refreshTokens}
        JOIN ${sessions} ON ${sessions.id} = ${refreshTokens.sessionId}
        JOIN ${devices} ON ${devices.id} = ${sessions.deviceId}
      SET ${refreshTokens.usedAt} = ${now}, ${refreshTokens.successorSealed} = ${input.sealed},
        ${sessions.lastUsedAt} = ${now}, ${sessions.ip} = ${client.ip}, ${sessions.userAgent} = ${client.userAgent?.slice(0, 512) ?? null},
        ${place ? sql`${sessions.country} = ${place.country}, ${sessions.region} = ${place.region}, ${sessions.city} = ${place.city},` : sql``}
        ${sessions.lastVerdict} = ${JSON.stringify(input.verdict)},
        ${devices.lastSeenAt} = ${now}, ${devices.lastIp} = ${client.ip}
        ${'lastLatitude' in location ? sql`, ${devices.lastLatitude} = ${location.lastLatitude}, ${devices.lastLongitude} = ${location.lastLongitude}, ${devices.lastLocatedAt} = ${location.lastLocatedAt}` : sql``}
      WHERE ${refreshTokens.id} = ${token.id} AND ${refreshTokens.usedAt} IS NULL AND ${sessions.revokedAt} IS NULL`);
    return (result as unknown as { affectedRows: number }).affectedRows > 0;
  }

  type Found = NonNullable<Awaited<ReturnType<typeof read>>>;

  /** A live token whose refresh the checks passed: insert the successor, then spend the presented one. Null when another request won. */
  async function rotateLive(
    presented: string,
    found: Found,
    client: ClientInfo,
    description: ClientDescription,
    verdict: ReturnType<typeof judgeRefresh>,
    now: Date,
  ): Promise<RotationOutcome | null> {
    const { token, session, user } = found;
    const successor = newRefreshToken({ sessionId: token.sessionId, generation: token.generation + 1, parentId: token.id }, now);
    const sealed = sealSuccessor(presented, token.id, successor.token);
    const spendInput = { token, sealed, client, description, verdict: storedVerdict(verdict, session.lastVerdict), now };
    // Rotations are audited once per session per clock hour (the first of each hour), not each
    // time: a busy session refreshes every few minutes, and the trail needs when and from where
    // it was used, not every rotation (reuse and revocation are recorded every time). That
    // rotation runs in a transaction, so its audit row commits with it.
    const audited = Math.floor(session.lastUsedAt.getTime() / 3_600_000) !== Math.floor(now.getTime() / 3_600_000);
    const won = audited
      ? await runTransaction(db, async (tx) => {
          await tx.insert(refreshTokens).values(successor.row);
          // Lost: nothing of this attempt stays, the rollback takes the successor's row with it.
          if (!(await spend(tx, spendInput))) throw new LostRace();
          await recordAudit(tx, { type: 'session.refreshed', at: now, userId: user.id, sessionId: session.id, client });
          return true;
        }).catch((error: unknown) => {
          if (error instanceof LostRace) return false;
          throw error;
        })
      : await (async () => {
          await db.insert(refreshTokens).values(successor.row);
          if (await spend(db, spendInput)) return true;
          await db.delete(refreshTokens).where(eq(refreshTokens.id, successor.row.id));
          return false;
        })();
    if (!won) return null;
    return {
      kind: 'rotated',
      user,
      sessionId: session.id,
      refreshToken: successor.token,
      expiresAt: session.expiresAt,
      organization: organizationOf(session, found.organizationRole),
    };
  }

  /** A challenge rotates nothing and revokes nothing (docs/api.md, challenges); the verdict and its audit row are written together. */
  async function recordChallenge(
    found: Found,
    client: ClientInfo,
    verdict: ReturnType<typeof judgeRefresh>,
    now: Date,
    hooks: RotationHooks,
  ) {
    const { session, user } = found;
    await runTransaction(db, async (tx) => {
      await tx
        .update(sessions)
        .set({ lastVerdict: storedVerdict(verdict) })
        .where(eq(sessions.id, session.id));
      await recordAudit(tx, {
        type: 'session.challenged',
        at: now,
        userId: user.id,
        sessionId: session.id,
        client,
        data: { reasons: verdict.reasons, evidence: verdict.evidence },
      });
      await hooks.onChallenged?.(tx, user, session.id, verdict);
    });
    return { kind: 'challenged', user, sessionId: session.id, verdict } as const;
  }

  /**
   * A spent token: within the grace window and from the session's own device it gets the same
   * successor (a lost response, two tabs); anything else is theft, and the session is revoked.
   * Rare, so it runs as it always did: one transaction, the token row locked.
   */
  async function answerSpent(presented: string, client: ClientInfo, now: Date, hooks: RotationHooks): Promise<RotationOutcome | null> {
    return runTransaction(db, async (tx) => {
      const row = await lockRefreshToken(tx, presented);
      if (!row) throw new IamError('REFRESH_TOKEN_INVALID');
      const [found] = await tx
        .select({ session: sessions, device: devices, user: users, organizationRole: organizationMembers.role })
        .from(sessions)
        .innerJoin(devices, eq(devices.id, sessions.deviceId))
        .innerJoin(users, eq(users.id, sessions.userId))
        .leftJoin(organizationMembers, activeMembership)
        .where(eq(sessions.id, row.sessionId))
        .limit(1);
      if (!found || !isRefreshable(found.session, now)) throw new IamError('REFRESH_TOKEN_INVALID');
      const { session, device, user } = found;
      // Read as spent, so committed as spent: this cannot be, but an unspent token is never judged as reused.
      if (row.usedAt === null) return null;
      const sameDevice = client.canary !== null && constantTimeEqual(canaryHash(client.canary), device.canaryHash);
      const successor = sameDevice ? await followGraceChain(tx, presented, row, now, lifetimes.refreshGraceInSeconds) : null;
      if (successor) {
        return {
          kind: 'rotated',
          user,
          sessionId: session.id,
          refreshToken: successor,
          expiresAt: session.expiresAt,
          organization: organizationOf(session, found.organizationRole),
        };
      }
      await deps.revokeInTransaction(tx, [session.id], 'refresh_reuse', now, client);
      await recordAudit(tx, {
        type: 'session.refresh_reused',
        at: now,
        userId: session.userId,
        sessionId: session.id,
        client,
        data: { generation: row.generation, usedAt: row.usedAt?.toISOString() ?? null, sameDevice },
      });
      await hooks.onReused?.(tx, user, session.id);
      return { kind: 'reused', user, sessionId: session.id };
    });
  }

  async function attempt(presented: string, client: ClientInfo, now: Date, hooks: RotationHooks): Promise<RotationOutcome | null> {
    const found = await read(hashRefreshToken(presented), now);
    if (!found || !isRefreshable(found.session, now)) throw new IamError('REFRESH_TOKEN_INVALID');
    if (found.token.usedAt !== null) return answerSpent(presented, client, now, hooks);
    const description = describeClient(client, anomaly);
    const verdict = judgeRefresh(
      {
        session: found.session,
        device: found.device,
        request: description,
        now,
        tooManySessions: found.tooManySessions !== null,
        tooManyRefreshes: found.tooManyRefreshes !== null,
      },
      anomaly,
      deps.onCheck,
    );
    if (verdict.decision !== 'pass') return recordChallenge(found, client, verdict, now, hooks);
    return rotateLive(presented, found, client, description, verdict, now);
  }

  /**
   * Rotates a refresh token. A token already rotated is answered with the same successor when
   * it comes back within the grace window from the session's own device (a lost response, two
   * tabs); any other reuse is theft: the whole session is revoked and audited.
   */
  return function rotate(presented: string, client: ClientInfo, hooks: RotationHooks = {}): Promise<RotationOutcome> {
    return withSpan('session.rotate', async (span) => {
      const now = clock.now();
      for (let round = 1; ; round++) {
        let outcome: RotationOutcome | null;
        try {
          outcome = await attempt(presented, client, now, hooks);
        } catch (error) {
          // A deadlock or a certification failure of a statement outside a transaction: run it again.
          if (round < maxRounds && isTransientConflictError(error)) continue;
          throw error;
        }
        if (outcome === null) {
          // Lost the compare-and-set to a concurrent presentation: read the token again, now spent.
          if (round < maxRounds) continue;
          throw new IamError('SERVICE_UNAVAILABLE', { retryAfterSeconds: 1 });
        }
        if (outcome.kind === 'reused') revocations.add(outcome.sessionId, now);
        span.setAttribute('iam.rotation.outcome', outcome.kind);
        return outcome;
      }
    });
  };
}

/** Attempts of one rotation: a lost race is followed by the spent path, which ends it. */
const maxRounds = 4;

/** Thrown inside the audited rotation's transaction when the compare-and-set changed nothing, to roll it back. */
class LostRace extends Error {}
