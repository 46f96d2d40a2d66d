import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { type Database, type Executor, runTransaction, type Transaction } from '../../db/client';
import { devices, organizationMembers, refreshTokens, type SessionVerdict, sessions } from '../../db/tables';
import type { AnomalyConfig, CheckObserver } from '../anomaly/config';
import { assessSignIn, type SignInVerdict } from '../anomaly/signInChecks';
import { type AuditEvent, recordAudit, recordAudits } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { constantTimeEqual } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import { canaryHash } from '../devices/canary';
import { type ClientInfo, parseUserAgent } from '../devices/clientInfo';
import { describeClient, placeOf } from '../devices/describe';
import { proveDevice, upsertDevice } from '../devices/devices';
import { type AccountHistory, accountHistory, type SignInPrior } from '../devices/history';
import type { Lifetimes } from '../lifetimes';
import { withSpan } from '../telemetry/tracing';
import type { TokenOrganization } from '../tokens/accessToken';
import type { RevocationSet } from '../tokens/revocations';
import { emitSecurityEvent, type SecurityEventDeps } from '../webhooks/webhooks';
import { verdictAttributes } from './assessment';
import { issueRefreshToken, restartRefreshFamily, sessionOfRefreshToken } from './refreshTokens';
import { createRotation } from './rotation';
import { listActiveSessions, liveSessionsOf } from './sessionList';

export type { SessionSummary } from './sessionList';

/** Live sessions one user may hold at once (per device, browser and app). */
export const defaultMaxSessionsPerUser = 50;

export type RevokeReason =
  | 'logout'
  | 'user'
  | 'user_all'
  | 'refresh_reuse'
  | 'password_change'
  | 'password_reset'
  | 'email_change'
  | 'not_me'
  | 'session_limit'
  | 'replaced'
  | 'admin'
  | 'account_deleted';

export interface CreatedSession {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
  /** Set when the session opened on a device the account had not used, next to others. */
  newDevice?: ClientInfo;
  /** Sessions revoked to keep the user within the cap (least recently used first); tell every instance once committed. */
  evicted?: string[];
  /** The session of this browser the sign-in replaced (revoked as `replaced`); tell every instance once committed. */
  replaced?: string;
}

export type { RotationHooks, RotationOutcome } from './rotation';

/** Sessions revoked per statement when many go at once (an `IN` list well within packet and placeholder limits). */
const revokeBatchSize = 500;

export function createSessionService(deps: {
  db: Database;
  clock: Clock;
  lifetimes: Lifetimes;
  revocations: RevocationSet;
  anomaly: AnomalyConfig;
  /** Live sessions a user may hold; a sign-in past it revokes the least recently used (default 50). */
  maxSessionsPerUser?: number;
  /** Where `session.revoked` security events go (webhooks); none without it. */
  securityEvents?: SecurityEventDeps;
  /** Told each anomaly check's result, of sign-ins and of refreshes (the metrics count them). */
  onCheck?: { signIn: CheckObserver; refresh: CheckObserver };
}) {
  const { db, clock, lifetimes, revocations, anomaly } = deps;
  const maxSessionsPerUser = deps.maxSessionsPerUser ?? defaultMaxSessionsPerUser;

  /**
   * Keeps a user within the session cap after a sign-in (OWASP ASVS 4.0 V3.3: bounded
   * sessions): the live sessions beyond it, least recently used first, are revoked in the
   * sign-in's transaction. The new session is the most recent, so it always stays.
   */
  async function evictBeyondCap(tx: Transaction, userId: string, now: Date, client: ClientInfo): Promise<string[]> {
    const live = await tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(liveSessionsOf(userId, now, lifetimes.sessionIdleInSeconds))
      .orderBy(desc(sessions.lastUsedAt), desc(sessions.createdAt));
    // A plain read: a session revoked meanwhile is skipped by the guarded UPDATE, and no other
    // session's row is locked on the sign-in path.
    const evicted = live.slice(maxSessionsPerUser).map((row) => row.id);
    if (evicted.length > 0) await revokeInTransaction(tx, evicted, 'session_limit', now, client, userId);
    return evicted;
  }

  /**
   * One browser, one session: a sign-in completed in a browser that presents the refresh cookie
   * of a live session of the same user on the same device (the canary names the device) replaces
   * that session, as when verifying an address (which signs in) is followed by a password
   * sign-in. The earlier session is revoked in the sign-in's transaction rather than reused: the
   * new sign-in brings its own proof, verdict and trust, and gets a fresh session id and token
   * family (OWASP ASVS 4.0 V3.2.1, a new session token on authentication), while the earlier
   * one's access and refresh tokens stop working. A cookie of another account, of a session that
   * is no longer live, or one that came without this device's canary replaces nothing.
   */
  async function replaceableSession(tx: Transaction, userId: string, client: ClientInfo, now: Date) {
    if (!client.refreshTokenHash || !client.canary || client.canaryIsNew) return null;
    const [row] = await tx
      .select({ id: sessions.id })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(devices, eq(devices.id, sessions.deviceId))
      .where(
        and(
          eq(refreshTokens.tokenHash, client.refreshTokenHash),
          eq(devices.canaryHash, canaryHash(client.canary)),
          liveSessionsOf(userId, now, lifetimes.sessionIdleInSeconds),
        ),
      )
      .limit(1);
    return row?.id ?? null;
  }

  async function revokeInTransaction(
    tx: Transaction,
    sessionIds: string[],
    reason: RevokeReason,
    now: Date,
    client?: ClientInfo,
    /** Whose every one of these sessions is, when the caller read them as that user's: spares the read. */
    knownOwner?: string,
  ) {
    if (sessionIds.length === 0) return 0;
    if (sessionIds.length > 1) return revokeManyInTransaction(tx, sessionIds, reason, now, client);
    const [sessionId] = sessionIds as [string];
    // Whose it is, for the audit trail (a user's history lists its revocations).
    const owner =
      knownOwner ??
      (await tx.select({ userId: sessions.userId }).from(sessions).where(eq(sessions.id, sessionId)).limit(1))[0]?.userId ??
      null;
    const [result] = await tx
      .update(sessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
    if (result.affectedRows === 0) return 0;
    await recordAudit(tx, { type: 'session.revoked', at: now, userId: owner, sessionId, client, data: { reason } });
    if (owner && deps.securityEvents) {
      await emitSecurityEvent(deps.securityEvents, tx, { type: 'session.revoked', userId: owner, data: { sessionId, reason } }, now);
    }
    return 1;
  }

  /**
   * Many sessions at once (an organization's members, every session of a user): a few
   * statements per 500 sessions, not three per session. The live ones are locked first, so
   * the count, the audit rows and the events name exactly the sessions this call ended.
   */
  async function revokeManyInTransaction(tx: Transaction, sessionIds: string[], reason: RevokeReason, now: Date, client?: ClientInfo) {
    let count = 0;
    for (let start = 0; start < sessionIds.length; start += revokeBatchSize) {
      const chunk = sessionIds.slice(start, start + revokeBatchSize);
      const live = await tx
        .select({ id: sessions.id, userId: sessions.userId })
        .from(sessions)
        .where(and(inArray(sessions.id, chunk), isNull(sessions.revokedAt)))
        .for('update');
      if (live.length === 0) continue;
      await tx
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(
          and(
            inArray(
              sessions.id,
              live.map((row) => row.id),
            ),
            isNull(sessions.revokedAt),
          ),
        );
      await recordAudits(
        tx,
        live.map((row) => ({ type: 'session.revoked', at: now, userId: row.userId, sessionId: row.id, client, data: { reason } })),
      );
      if (deps.securityEvents) {
        for (const row of live) {
          await emitSecurityEvent(
            deps.securityEvents,
            tx,
            { type: 'session.revoked', userId: row.userId, data: { sessionId: row.id, reason } },
            now,
          );
        }
      }
      count += live.length;
    }
    return count;
  }

  async function revoke(sessionIds: string[], reason: RevokeReason, client?: ClientInfo): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const now = clock.now();
    const count = await runTransaction(db, (tx) => revokeInTransaction(tx, sessionIds, reason, now, client));
    for (const id of sessionIds) revocations.add(id, now);
    return count;
  }

  return {
    /**
     * Opens a session for a user who just proved who they are; call inside the proving transaction.
     * `prior` is what the sign-in read of the account beforehand (`accountWithHistory`): with it,
     * the device's known state, the session to replace and the live count come from that read,
     * and the transaction only writes (and lists sessions for the cap only when the count says
     * this one passes it). `audit` rows are written with `session.created`, in one INSERT.
     */
    async create(
      tx: Transaction,
      input: {
        userId: string;
        client: ClientInfo;
        trusted?: boolean;
        verdict?: SessionVerdict;
        prior?: SignInPrior;
        audit?: Array<Pick<AuditEvent, 'type' | 'data'>>;
      },
    ): Promise<CreatedSession> {
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
        ...(input.prior ? { prior: input.prior } : {}),
      });
      // A session read before the transaction may have been revoked since: the revocation is
      // guarded (only a live row is updated and audited), so a stale answer changes nothing.
      const replaced = input.prior ? input.prior.replaceable : await replaceableSession(tx, input.userId, input.client, now);
      if (replaced) await revokeInTransaction(tx, [replaced], 'replaced', now, input.client, input.userId);
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
        lastVerdict: input.verdict ?? null,
      });
      const { token } = await issueRefreshToken(tx, { sessionId, generation: 0, parentId: null }, now);
      const context = { at: now, userId: input.userId, sessionId, client: input.client };
      await recordAudits(tx, [{ type: 'session.created', ...context }, ...(input.audit ?? []).map((event) => ({ ...event, ...context }))]);
      // With the count read before, the live sessions are listed only when this one passes the
      // cap. Either way it is a plain read: two sign-ins at once may each see room and leave the
      // user one over, which the next sign-in evicts (as when each lists the sessions itself).
      const liveNow = input.prior ? input.prior.liveSessions + 1 - (replaced ? 1 : 0) : Number.POSITIVE_INFINITY;
      const evicted = liveNow > maxSessionsPerUser ? await evictBeyondCap(tx, input.userId, now, input.client) : [];
      // A first sign-in from a new device of an account that has others is worth telling the owner.
      return {
        sessionId,
        refreshToken: token,
        expiresAt,
        ...(!known && otherDevices > 0 ? { newDevice: input.client } : {}),
        ...(evicted.length > 0 ? { evicted } : {}),
        ...(replaced ? { replaced } : {}),
      };
    },

    /**
     * Rotates a refresh token (RFC 9700 §4.14.2, rotation with reuse detection; see rotation.ts):
     * a spent token is answered with the same successor when it comes back within the grace
     * window from the session's own device (a lost response, two tabs); any other reuse is
     * theft: the whole session is revoked and audited.
     */
    rotate: createRotation({ db, clock, lifetimes, revocations, anomaly, onCheck: deps.onCheck?.refresh, revokeInTransaction }),

    /**
     * After a refresh challenge was passed: when the completing client is the session's own
     * device, the device is proven anew (trusted, fingerprint updated) and the session
     * continues with a fresh refresh token (the ones outstanding are spent). Null when the
     * session is gone or the completer is another device.
     */
    async continueOnProvenDevice(
      tx: Transaction,
      sessionId: string,
      client: ClientInfo,
    ): Promise<(CreatedSession & { organization: TokenOrganization | null }) | null> {
      const now = clock.now();
      const [row] = await tx
        .select({ session: sessions, device: devices, organizationRole: organizationMembers.role })
        .from(sessions)
        .innerJoin(devices, eq(devices.id, sessions.deviceId))
        // The session's active organization, while the user is still a member (the token's `org` claims, as a refresh gives them).
        .leftJoin(
          organizationMembers,
          and(eq(organizationMembers.organizationId, sessions.activeOrganizationId), eq(organizationMembers.userId, sessions.userId)),
        )
        .where(eq(sessions.id, sessionId))
        .for('update');
      if (!row || row.session.revokedAt || row.session.expiresAt <= now) return null;
      if (!client.canary || !constantTimeEqual(canaryHash(client.canary), row.device.canaryHash)) return null;
      const description = describeClient(client, anomaly);
      await proveDevice(tx, row.device.id, client, description, now);
      const token = await restartRefreshFamily(tx, sessionId, now);
      await tx
        .update(sessions)
        .set({
          lastUsedAt: now,
          ip: client.ip,
          ...placeOf(description),
          lastVerdict: { decision: 'pass', reasons: ['challenge_passed'], logged: [], at: now.toISOString() },
        })
        .where(eq(sessions.id, sessionId));
      const organization =
        row.session.activeOrganizationId && row.organizationRole
          ? { id: row.session.activeOrganizationId, role: row.organizationRole }
          : null;
      return { sessionId, refreshToken: token, expiresAt: row.session.expiresAt, organization };
    },

    /**
     * Judges a sign-in whose identity is proven against what the account proved before
     * (docs/security.md, sign-in risk): its devices, countries, networks, last location.
     */
    assessSignIn(executor: Executor, userId: string, client: ClientInfo, known?: AccountHistory): Promise<SignInVerdict> {
      return withSpan('anomaly.signIn', async (span) => {
        // `known`: the history the sign-in already read with the account (a password sign-in's one read).
        const history = known ?? (await accountHistory(executor, userId, client));
        const verdict = assessSignIn(
          { now: clock.now(), request: describeClient(client, anomaly), history },
          anomaly,
          deps.onCheck?.signIn,
        );
        span.setAttributes(verdictAttributes(verdict));
        return verdict;
      });
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

    /**
     * Revokes every live session of a user inside the caller's transaction (an admin disabling
     * or deleting the account); returns their ids, which the caller adds to the revocation set
     * once the transaction commits.
     */
    async revokeAllOfUserIn(tx: Transaction, userId: string, reason: RevokeReason, client?: ClientInfo): Promise<string[]> {
      const live = await tx
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
      const ids = live.map((row) => row.id);
      await revokeInTransaction(tx, ids, reason, clock.now(), client);
      return ids;
    },

    /** Revokes sessions inside the caller's transaction; the caller adds them to the revocation set once it commits. */
    revokeIn: (tx: Transaction, sessionIds: string[], reason: RevokeReason, client?: ClientInfo) =>
      revokeInTransaction(tx, sessionIds, reason, clock.now(), client),

    /** The session a refresh token belongs to, whatever its state; for logout. */
    sessionOfRefreshToken: (presented: string) => sessionOfRefreshToken(db, presented),

    async find(sessionId: string) {
      const [row] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
      return row ?? null;
    },

    /** Live sessions of a user, most recently used first. */
    listActive: (userId: string) => listActiveSessions(db, { userId, now: clock.now(), idleInSeconds: lifetimes.sessionIdleInSeconds }),
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
