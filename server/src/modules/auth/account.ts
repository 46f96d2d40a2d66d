import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { runTransaction, type Transaction } from '../../db/client';
import {
  apiKeys,
  auditEvents,
  backupCodes,
  challenges,
  devices,
  links,
  oauthAccounts,
  oauthLinkTokens,
  organizationMembers,
  organizations,
  outboxMessages,
  passkeys,
  refreshTokens,
  scimGroupMembers,
  scimGroups,
  scimUsers,
  sessions,
  stepUpTokens,
  totpCredentials,
  users,
  webauthnCeremonies,
} from '../../db/tables';
import { toApiKeySummary } from '../apiKeys/apiKeys';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { releaseOrganizationsOf } from '../orgs/orgs';
import { forgetScimIdentitiesOf } from '../scim/users';
import { type PublicUser, toPublicUser } from '../users/publicUser';
import { findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import type { Services } from './services';
import { requireStepUp } from './stepUp';

/** The most audit events an export carries (newest first); `auditEventsTruncated` says when there were more. */
const exportedAuditEventsLimit = 10_000;

/** Changes the caller's display name (`null` clears it). */
export async function updateProfile(
  services: Services,
  input: { userId: string; sessionId: string; name: string | null },
  client: ClientInfo,
): Promise<PublicUser> {
  const now = services.clock.now();
  const user = await runTransaction(services.db, async (tx) => {
    await tx.update(users).set({ name: input.name, updatedAt: now }).where(eq(users.id, input.userId));
    const updated = await findUserById(tx, input.userId);
    if (!updated) throw new IamError('UNAUTHENTICATED');
    await recordAudit(tx, { type: 'user.profile_updated', at: now, userId: input.userId, sessionId: input.sessionId, client });
    return updated;
  });
  services.users.invalidate(input.userId);
  return toPublicUser(user);
}

/**
 * Everything the service holds about the caller, as JSON (GDPR art. 15 and 20: access and
 * portability): the profile, sessions, devices, linked accounts, passkeys (their public parts),
 * whether an authenticator app is enrolled and how many backup codes are left, organization
 * memberships, what an organization's directory provisioned (SCIM), and the audit events. Secrets are never part of it: no password hash, TOTP secret, code, token or key.
 */
export async function exportData(services: Services, input: { userId: string; sessionId: string }, client: ClientInfo) {
  const { db } = services;
  const user = await findUserById(db, input.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  const [sessionRows, deviceRows, linked, passkeyRows, codes, keys, events, memberships, provisioned, groups] = await Promise.all([
    db.select().from(sessions).where(eq(sessions.userId, user.id)).orderBy(desc(sessions.createdAt)),
    db.select().from(devices).where(eq(devices.userId, user.id)),
    db.select().from(oauthAccounts).where(eq(oauthAccounts.userId, user.id)),
    db.select().from(passkeys).where(eq(passkeys.userId, user.id)),
    db.select({ usedAt: backupCodes.usedAt }).from(backupCodes).where(eq(backupCodes.userId, user.id)),
    db.select().from(apiKeys).where(eq(apiKeys.userId, user.id)),
    db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.userId, user.id))
      .orderBy(desc(auditEvents.createdAt))
      .limit(exportedAuditEventsLimit + 1),
    db
      .select({
        organizationId: organizationMembers.organizationId,
        name: organizations.name,
        role: organizationMembers.role,
        joinedAt: organizationMembers.createdAt,
      })
      .from(organizationMembers)
      .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
      .where(eq(organizationMembers.userId, user.id)),
    db.select().from(scimUsers).where(eq(scimUsers.userId, user.id)),
    db
      .select({ scimUserId: scimGroupMembers.scimUserId, displayName: scimGroups.displayName })
      .from(scimGroupMembers)
      .innerJoin(scimUsers, eq(scimUsers.id, scimGroupMembers.scimUserId))
      .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
      .where(eq(scimUsers.userId, user.id)),
  ]);
  await recordAudit(db, { type: 'user.data_exported', at: services.clock.now(), userId: user.id, sessionId: input.sessionId, client });
  return {
    exportedAt: services.clock.now(),
    profile: {
      ...toPublicUser(user),
      emailVerifiedAt: user.emailVerifiedAt,
      hasPassword: user.passwordHash !== null,
      updatedAt: user.updatedAt,
    },
    mfa: {
      totpEnabledAt: user.totpEnabledAt,
      backupCodesLeft: codes.filter((code) => code.usedAt === null).length,
    },
    sessions: sessionRows.map((row) => ({
      id: row.id,
      deviceId: row.deviceId,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      expiresAt: row.expiresAt,
      revokedAt: row.revokedAt,
      revokedReason: row.revokedReason,
      ip: row.ip,
      userAgent: row.userAgent,
    })),
    devices: deviceRows.map(({ canaryHash: _secret, ...device }) => device),
    linkedAccounts: linked.map((row) => ({ provider: row.provider, subject: row.subject, email: row.email, createdAt: row.createdAt })),
    passkeys: passkeyRows.map((row) => ({
      id: row.id,
      name: row.name,
      credentialId: row.credentialId,
      publicKey: row.publicKey,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      backedUp: row.backedUp,
      deviceType: row.deviceType,
    })),
    organizations: memberships,
    // What an organization's directory provisioned about the account (SCIM), with its groups.
    provisioning: provisioned.map((row) => ({
      organizationId: row.organizationId,
      id: row.id,
      externalId: row.externalId,
      userName: row.userName,
      active: row.active,
      attributes: row.attributes,
      groups: groups.filter((group) => group.scimUserId === row.id).map((group) => group.displayName),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    })),
    // Never the key: only its display prefix and facts.
    apiKeys: keys.map((row) => ({ ...toApiKeySummary(row), revokedAt: row.revokedAt })),
    auditEvents: events.slice(0, exportedAuditEventsLimit).map((row) => ({
      id: row.id,
      at: row.createdAt,
      type: row.type,
      sessionId: row.sessionId,
      ip: row.ip,
      userAgent: row.userAgent,
      details: row.data,
    })),
    auditEventsTruncated: events.length > exportedAuditEventsLimit,
  };
}

/**
 * Deletes the caller's account on a step-up for `account_delete` (GDPR art. 17), in one
 * transaction: every session is revoked (refused at once on every instance: the revoked rows
 * stay, without their addresses, until retention removes them), and the personal data is
 * erased: the user row, devices, linked accounts, passkeys, API keys (which stop working at
 * once), TOTP and backup codes, codes, links, step-up tokens and queued mails (queued security
 * events stay, for the receivers, without the address `user.created` carries). Audit events
 * keep their type and time under the user id, which no longer names anyone (pseudonymous);
 * their addresses, agents and details are erased. The address is free to sign up again.
 */
export async function deleteAccount(
  services: Services,
  input: { userId: string; sessionId: string; stepUpToken?: string | undefined },
  // Not recorded: the deletion's own event carries no address or agent either.
  _client: ClientInfo,
): Promise<{ status: 'deleted' }> {
  if (!input.stepUpToken) throw new IamError('STEP_UP_REQUIRED');
  const stepUpToken = input.stepUpToken;
  const now = services.clock.now();
  const revoked = await runTransaction(services.db, async (tx) => {
    await requireStepUp(services, { sessionId: input.sessionId, action: 'account_delete', stepUpToken }, tx);
    return eraseAccount(services, tx, input.userId, now, {});
  });
  for (const id of revoked) services.revocations.add(id, now);
  services.users.invalidate(input.userId);
  return { status: 'deleted' };
}

/**
 * Erases an account inside the caller's transaction (`auth.deleteAccount`, `admin.users.delete`):
 * revokes its live sessions (returned, for the revocation set once committed) and deletes or
 * scrubs every personal row (see `deleteAccount`). `actorId` names an admin who did it.
 */
export async function eraseAccount(
  services: Pick<Services, 'clock' | 'webhooks' | 'outbox'>,
  tx: Transaction,
  userId: string,
  now: Date,
  options: { actorId?: string },
): Promise<string[]> {
  const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
  if (!user) throw new IamError(options.actorId ? 'NOT_FOUND' : 'UNAUTHENTICATED');
  // First, before anything is erased: the owner of an organization with other members is refused.
  await releaseOrganizationsOf(tx, user.id, now);
  await forgetScimIdentitiesOf(tx, user.id);
  const own = await tx.select({ id: sessions.id, revokedAt: sessions.revokedAt }).from(sessions).where(eq(sessions.userId, user.id));
  const live = own.filter((row) => !row.revokedAt).map((row) => row.id);
  if (live.length > 0) {
    await tx.update(sessions).set({ revokedAt: now, revokedReason: 'account_deleted' }).where(inArray(sessions.id, live));
  }
  if (own.length > 0) {
    const all = own.map((row) => row.id);
    await tx.update(sessions).set({ ip: null, userAgent: null }).where(inArray(sessions.id, all));
    await tx.delete(refreshTokens).where(inArray(refreshTokens.sessionId, all));
  }
  for (const table of [devices, challenges, links, stepUpTokens, backupCodes, passkeys, oauthAccounts, apiKeys] as const) {
    await tx.delete(table).where(eq(table.userId, user.id));
  }
  await tx.delete(totpCredentials).where(eq(totpCredentials.userId, user.id));
  await tx.delete(webauthnCeremonies).where(eq(webauthnCeremonies.userId, user.id));
  await tx.delete(oauthLinkTokens).where(eq(oauthLinkTokens.userId, user.id));
  await tx.delete(outboxMessages).where(and(eq(outboxMessages.userId, user.id), eq(outboxMessages.kind, 'mail')));
  // Events still queued go out (a receiver must hear of the deletion), but with no address left in them.
  await tx
    .update(outboxMessages)
    .set({ payload: sql`JSON_REMOVE(${outboxMessages.payload}, '$.data.email')` })
    .where(and(eq(outboxMessages.userId, user.id), eq(outboxMessages.kind, 'webhook'), eq(outboxMessages.state, 'pending')));
  await tx.update(auditEvents).set({ ip: null, userAgent: null, data: null }).where(eq(auditEvents.userId, user.id));
  await tx.delete(users).where(eq(users.id, user.id));
  // The deletion itself, with nothing that names the person.
  await recordAudit(tx, {
    type: 'user.deleted',
    at: now,
    userId: user.id,
    actorId: options.actorId ?? null,
    data: { sessionsRevoked: live.length },
  });
  await emitSecurityEvent(services, tx, { type: 'user.deleted', userId: user.id, data: { by: options.actorId ? 'admin' : 'user' } }, now);
  return live;
}
