import { and, desc, eq, gt, inArray, isNotNull, isNull, like, lt, or, sql } from 'drizzle-orm';
import { runTransaction } from '../../db/client';
import {
  auditEvents,
  backupCodes,
  devices,
  oauthAccounts,
  passkeys,
  sessions,
  totpCredentials,
  type UserRow,
  users,
} from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { normalizeEmail } from '../users/email';
import { type PublicUser, toPublicUser } from '../users/publicUser';
import { findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { eraseAccount } from './account';
import { queueSecurityAlert } from './securityAlert';
import type { Services } from './services';
import { requireStepUp } from './stepUp';

/**
 * Administration (docs/api.md, admin): every call needs the `admin` role, read from the
 * database on each call, so a role removed a moment ago no longer works (OWASP ASVS 4.0 V4.1.3,
 * least privilege; V4.2.1, no stale authorisation). Destructive calls also spend a step-up token
 * for the action `admin` from the acting admin's session (V4.3.1). Every call is audited with the
 * acting admin as `actorId`.
 */
export const adminRole = 'admin';

/** The acting admin, as the access token names them: their user and session. */
export interface AdminActor {
  userId: string;
  sessionId: string;
  client: ClientInfo;
}

export type AdminUser = Omit<PublicUser, 'disabled'> & {
  disabled: boolean;
  disabledReason: string | null;
  lastSignInAt: Date | null;
  /** Live sessions. */
  sessions: number;
};

/**
 * The acting user when they hold `admin` and are not disabled; FORBIDDEN otherwise. The admin
 * procedures check it before anything (`adminProcedure`); the flows below assume it.
 */
export async function requireAdmin(services: Services, actor: AdminActor): Promise<UserRow> {
  const user = await findUserById(services.db, actor.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  if (user.disabledAt || !user.roles.includes(adminRole)) throw new IamError('FORBIDDEN');
  return user;
}

const cursorOf = (value: string) => Buffer.from(value, 'utf8').toString('base64url');
const decodeCursor = (cursor: string | undefined): string | null => {
  if (!cursor) return null;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  return value.length > 0 && value.length <= 300 ? value : null;
};

/** `LIKE` with the user's text taken literally. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (match) => `\\${match}`);

async function withSessionFacts(services: Services, rows: UserRow[]): Promise<AdminUser[]> {
  if (rows.length === 0) return [];
  const now = services.clock.now();
  const facts = await services.db
    .select({
      userId: sessions.userId,
      live: sql<number>`SUM(${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${now})`.as('live'),
      lastSignInAt: sql<Date | string | null>`MAX(${sessions.createdAt})`,
    })
    .from(sessions)
    .where(
      inArray(
        sessions.userId,
        rows.map((row) => row.id),
      ),
    )
    .groupBy(sessions.userId);
  const byUser = new Map(facts.map((fact) => [fact.userId, fact]));
  return rows.map((row) => {
    const fact = byUser.get(row.id);
    const last = fact?.lastSignInAt ?? null;
    return {
      ...toPublicUser(row),
      disabled: row.disabledAt !== null,
      disabledReason: row.disabledReason,
      lastSignInAt: last === null ? null : last instanceof Date ? last : new Date(`${String(last).replace(' ', 'T')}Z`),
      sessions: Number(fact?.live ?? 0),
    };
  });
}

/**
 * Users in address order, from an email prefix (or one user id), by keyset pagination: the
 * cursor is the last address of the page and the next page starts after it on the unique
 * address index, so pages stay stable under inserts and no OFFSET scan happens.
 */
export async function listUsers(
  services: Services,
  input: {
    query?: string | undefined;
    status?: 'active' | 'disabled' | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
): Promise<{ items: AdminUser[]; nextCursor: string | null }> {
  const limit = input.limit ?? 50;
  const after = decodeCursor(input.cursor);
  const query = input.query?.trim() ?? '';
  const conditions = [
    query.startsWith('usr_')
      ? eq(users.id, query)
      : query
        ? like(users.emailNormalized, `${escapeLike(normalizeEmail(query))}%`)
        : undefined,
    after ? gt(users.emailNormalized, after) : undefined,
    input.status === 'disabled' ? isNotNull(users.disabledAt) : input.status === 'active' ? isNull(users.disabledAt) : undefined,
  ];
  const rows = await services.db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(users.emailNormalized)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: await withSessionFacts(services, page),
    nextCursor: rows.length > limit && last ? cursorOf(last.emailNormalized) : null,
  };
}

/** One user with their sessions, devices, linked accounts, passkeys and second factors. */
export async function getUser(services: Services, userId: string) {
  const user = await findUserById(services.db, userId);
  if (!user) throw new IamError('NOT_FOUND');
  const [summary] = await withSessionFacts(services, [user]);
  const [live, deviceRows, linked, passkeyRows, codes] = await Promise.all([
    services.sessions.listActive(user.id),
    services.db.select().from(devices).where(eq(devices.userId, user.id)),
    services.db.select().from(oauthAccounts).where(eq(oauthAccounts.userId, user.id)),
    services.passkeys.list(services.db, user.id),
    services.db.select({ usedAt: backupCodes.usedAt }).from(backupCodes).where(eq(backupCodes.userId, user.id)),
  ]);
  return {
    ...(summary as AdminUser),
    sessionCount: summary?.sessions ?? 0,
    sessions: live,
    devices: deviceRows.map(({ canaryHash: _secret, ...device }) => device),
    linkedAccounts: linked.map((row) => ({ provider: row.provider, email: row.email, createdAt: row.createdAt })),
    passkeys: passkeyRows,
    mfa: {
      totp: user.totpEnabledAt !== null,
      totpEnabledAt: user.totpEnabledAt,
      backupCodesLeft: codes.filter((code) => code.usedAt === null).length,
      passkeys: user.passkeyCount,
    },
  };
}

/** The audit event of each destructive call, when its work does not write one of its own. */
const auditTypeOf = {
  disable: 'user.disabled',
  enable: 'user.enabled',
  resetMfa: 'user.mfa_reset',
  setRoles: null,
  delete: null,
} as const;

type AdminAction = keyof typeof auditTypeOf;

/**
 * A destructive admin call: the step-up, the target locked, the audit with the actor, all in one
 * transaction; once it has committed, the target's cached row is forgotten (`services.users`).
 */
async function destructive<T>(
  services: Services,
  actor: AdminActor,
  input: { userId: string; stepUpToken?: string | undefined },
  action: AdminAction,
  work: (tx: Parameters<Parameters<typeof runTransaction>[1]>[0], target: UserRow) => Promise<T>,
): Promise<T> {
  if (!input.stepUpToken) throw new IamError('STEP_UP_REQUIRED');
  const stepUpToken = input.stepUpToken;
  const outcome = await runTransaction(services.db, async (tx) => {
    const [target] = await tx.select().from(users).where(eq(users.id, input.userId)).for('update');
    if (!target) throw new IamError('NOT_FOUND');
    // Spent only if the change commits, so a refused call leaves the token usable.
    await requireStepUp(services, { sessionId: actor.sessionId, action: 'admin', stepUpToken }, tx);
    const result = await work(tx, target);
    const type = auditTypeOf[action];
    if (type === null) return result;
    await recordAudit(tx, {
      type,
      at: services.clock.now(),
      userId: target.id,
      actorId: actor.userId,
      sessionId: actor.sessionId,
      client: actor.client,
      data: { action },
    });
    return result;
  });
  services.users.invalidate(input.userId);
  return outcome;
}

/** Disables a user: they cannot sign in, and every session (and so every access token) ends at once. */
export async function disableUser(
  services: Services,
  actor: AdminActor,
  input: { userId: string; reason?: string | undefined; stepUpToken?: string | undefined },
): Promise<{ status: 'disabled' }> {
  if (input.userId === actor.userId) throw new IamError('FORBIDDEN', { message: 'You cannot disable your own account.' });
  const revoked = await destructive(services, actor, input, 'disable', async (tx, target) => {
    const now = services.clock.now();
    if (!target.disabledAt) {
      await tx
        .update(users)
        .set({ disabledAt: now, disabledReason: input.reason ?? null, updatedAt: now })
        .where(eq(users.id, target.id));
      await emitSecurityEvent(services, tx, { type: 'user.disabled', userId: target.id, data: { reason: input.reason ?? null } }, now);
    }
    return services.sessions.revokeAllOfUserIn(tx, target.id, 'admin', actor.client);
  });
  const now = services.clock.now();
  for (const id of revoked) services.revocations.add(id, now);
  return { status: 'disabled' };
}

export async function enableUser(
  services: Services,
  actor: AdminActor,
  input: { userId: string; stepUpToken?: string | undefined },
): Promise<{ status: 'enabled' }> {
  await destructive(services, actor, input, 'enable', async (tx, target) => {
    const now = services.clock.now();
    if (!target.disabledAt) return;
    await tx.update(users).set({ disabledAt: null, disabledReason: null, updatedAt: now }).where(eq(users.id, target.id));
    await emitSecurityEvent(services, tx, { type: 'user.enabled', userId: target.id, data: {} }, now);
  });
  return { status: 'enabled' };
}

/** Ends every session of a user (not destructive to the account: no step-up, per docs/api.md). */
export async function revokeUserSessions(services: Services, actor: AdminActor, input: { userId: string }) {
  const revoked = await runTransaction(services.db, async (tx) => {
    const [target] = await tx.select({ id: users.id }).from(users).where(eq(users.id, input.userId)).for('update');
    if (!target) throw new IamError('NOT_FOUND');
    const ids = await services.sessions.revokeAllOfUserIn(tx, target.id, 'admin', actor.client);
    await recordAudit(tx, {
      type: 'user.sessions_revoked',
      at: services.clock.now(),
      userId: target.id,
      actorId: actor.userId,
      sessionId: actor.sessionId,
      client: actor.client,
      data: { action: 'revokeSessions', count: ids.length },
    });
    return ids;
  });
  const now = services.clock.now();
  for (const id of revoked) services.revocations.add(id, now);
  return { status: 'revoked' as const, count: revoked.length };
}

/** Removes TOTP, backup codes and passkeys (a user who lost their devices); the user is mailed. */
export async function resetUserMfa(services: Services, actor: AdminActor, input: { userId: string; stepUpToken?: string | undefined }) {
  await destructive(services, actor, input, 'resetMfa', async (tx, target) => {
    const now = services.clock.now();
    await tx.delete(totpCredentials).where(eq(totpCredentials.userId, target.id));
    await tx.delete(backupCodes).where(eq(backupCodes.userId, target.id));
    await tx.delete(passkeys).where(eq(passkeys.userId, target.id));
    await tx.update(users).set({ totpEnabledAt: null, passkeyCount: 0, updatedAt: now }).where(eq(users.id, target.id));
    await queueSecurityAlert(services, tx, target, { reason: 'mfa_reset', client: actor.client });
    await emitSecurityEvent(services, tx, { type: 'mfa.changed', userId: target.id, data: { factor: 'all', enabled: false } }, now);
  });
  return { status: 'reset' as const };
}

/** Replaces a user's roles; the next access token carries them. An admin keeps their own `admin`. */
export async function setUserRoles(
  services: Services,
  actor: AdminActor,
  input: { userId: string; roles: string[]; stepUpToken?: string | undefined },
): Promise<{ roles: string[] }> {
  const roles = [...new Set(input.roles)].sort();
  if (input.userId === actor.userId && !roles.includes(adminRole)) {
    throw new IamError('FORBIDDEN', { message: 'You cannot remove your own admin role.' });
  }
  await destructive(services, actor, input, 'setRoles', async (tx, target) => {
    await tx.update(users).set({ roles, updatedAt: services.clock.now() }).where(eq(users.id, target.id));
    await recordAudit(tx, {
      type: 'user.roles_changed',
      at: services.clock.now(),
      userId: target.id,
      actorId: actor.userId,
      sessionId: actor.sessionId,
      client: actor.client,
      data: { from: target.roles, to: roles },
    });
  });
  return { roles };
}

/** Deletes a user as `auth.deleteAccount` does. */
export async function deleteUser(services: Services, actor: AdminActor, input: { userId: string; stepUpToken?: string | undefined }) {
  if (input.userId === actor.userId) throw new IamError('FORBIDDEN', { message: 'Delete your own account with auth.deleteAccount.' });
  const revoked = await destructive(services, actor, input, 'delete', (tx, target) =>
    eraseAccount(services, tx, target.id, services.clock.now(), { actorId: actor.userId }),
  );
  const now = services.clock.now();
  for (const id of revoked) services.revocations.add(id, now);
  return { status: 'deleted' as const };
}

/**
 * Audit events, newest first, by keyset pagination on (created_at, id): the cursor is the last
 * event's time and id. A user filter runs on the (user_id, created_at) index, an address filter
 * on (ip, created_at), and the rest on (created_at), so no query scans the table from its start.
 */
export async function queryAudit(
  services: Services,
  input: {
    userId?: string | undefined;
    types?: string[] | undefined;
    ip?: string | undefined;
    from?: Date | undefined;
    to?: Date | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
) {
  const limit = input.limit ?? 100;
  const decoded = decodeCursor(input.cursor);
  const [atText, id] = decoded ? decoded.split('|') : [];
  const at = atText ? new Date(Number(atText)) : null;
  const rows = await services.db
    .select()
    .from(auditEvents)
    .where(
      and(
        input.userId ? eq(auditEvents.userId, input.userId) : undefined,
        input.types?.length ? inArray(auditEvents.type, input.types) : undefined,
        input.ip ? eq(auditEvents.ip, input.ip) : undefined,
        input.from ? sql`${auditEvents.createdAt} >= ${input.from}` : undefined,
        input.to ? lt(auditEvents.createdAt, input.to) : undefined,
        at && id && !Number.isNaN(at.getTime())
          ? or(lt(auditEvents.createdAt, at), and(eq(auditEvents.createdAt, at), lt(auditEvents.id, id)))
          : undefined,
      ),
    )
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      id: row.id,
      at: row.createdAt,
      type: row.type,
      userId: row.userId,
      actorId: row.actorId,
      sessionId: row.sessionId,
      ip: row.ip,
      userAgent: row.userAgent,
      details: row.data,
    })),
    nextCursor: rows.length > limit && last ? cursorOf(`${last.createdAt.getTime()}|${last.id}`) : null,
  };
}
