import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { type Database, type Executor, isDuplicateKeyError, runTransaction, type Transaction } from '../../db/client';
import {
  auditEvents,
  type OrganizationInvitationRow,
  type OrganizationRow,
  organizationDomains,
  organizationInvitations,
  organizationMembers,
  organizations,
  scimGroupMembers,
  scimGroups,
  scimRoleMappings,
  scimTokens,
  scimUsers,
  sessions,
  ssoConnections,
  users,
} from '../../db/tables';
import { type AuditEvent, recordAudit } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { newId } from '../crypto/ids';
import { base32 } from '../crypto/random';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { findLiveLink, issueLink, retireLinks, spendLink } from '../links/links';
import { enqueueMail } from '../outbox/outbox';
import type { SessionService } from '../sessions/sessions';
import type { AccessTokenService, OrganizationRole } from '../tokens/accessToken';
import type { RevocationSet } from '../tokens/revocations';
import { normalizeEmail } from '../users/email';
import { findUserByEmail, findUserById } from '../users/users';

/**
 * Organizations (docs/api.md, org): users grouped under one `owner`, with `admin`s and
 * `member`s. Authorization is decided from the database on every call, never from a token's
 * claims (OWASP ASVS 4.0 V4.1.1/V4.1.3: access control enforced server-side, least privilege;
 * V4.2.1: no access to another organization's objects, which answer `NOT_FOUND` so their
 * existence is not revealed).
 *
 * Every change writes the organization's row first thing in its transaction (`lockOrganization`):
 * on one server the row lock orders two changes of one organization, and on a multi-primary
 * cluster the two writes conflict at certification and one is run again (docs/architecture.md,
 * scale-out: a decision is a write). The role checks that follow read rows that only such
 * changes write.
 */

export const invitationPurpose = 'org_invitation';
/** Invitation links live 7 days (docs/api.md, challenges, codes and links). */
export const invitationTtlInSeconds = 7 * 24 * 3600;

/** What the organization functions need: a narrow slice of the service's dependencies. */
export interface OrgDeps {
  db: Database;
  clock: Clock;
  sessions: Pick<SessionService, 'revokeIn' | 'revokeAllOfUser'>;
  revocations: RevocationSet;
  accessTokens: AccessTokenService;
  outbox: { nudge(): void };
  settings: { publicUrl: string; productName: string };
}

/** The signed-in user acting, for the checks and the audit trail. */
export interface OrgActor {
  userId: string;
  sessionId: string;
  client: ClientInfo;
}

export interface OrganizationSummary {
  id: string;
  name: string;
  slug: string;
  createdAt: Date;
}

/** A step-up spent in the change's transaction (the router passes `requireStepUp` bound to its input). */
export type StepUpGuard = (tx: Transaction) => Promise<void>;

const summaryOf = (row: OrganizationRow): OrganizationSummary => ({ id: row.id, name: row.name, slug: row.slug, createdAt: row.createdAt });

/** Lower-case base32 characters, for slug suffixes. */
function randomSuffix(length: number): string {
  return base32(randomBytes(8)).slice(0, length);
}

/** A slug from an organization's name: ASCII letters and digits in dash-separated words, 2–48 characters. */
export function slugFromName(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return base.length >= 2 ? base : `org-${randomSuffix(6)}`;
}

/** The same slug with a random word at its end, when the derived one is taken. */
function suffixed(slug: string): string {
  return `${slug.slice(0, 41).replace(/-+$/, '')}-${randomSuffix(6)}`;
}

/**
 * Writes the organization's row (the write every change of it orders on) and returns it;
 * `NOT_FOUND` when there is none. `updated_at` always moves forward, by at least a millisecond,
 * so the row really changes (an UPDATE that changes nothing writes nothing a cluster could
 * certify against).
 */
export async function lockOrganization(tx: Transaction, organizationId: string, now: Date): Promise<OrganizationRow> {
  const [result] = await tx
    .update(organizations)
    .set({ updatedAt: sql`GREATEST(${now}, ${organizations.updatedAt} + INTERVAL 1000 MICROSECOND)` })
    .where(eq(organizations.id, organizationId));
  if (result.affectedRows === 0) throw new IamError('NOT_FOUND');
  const [row] = await tx.select().from(organizations).where(eq(organizations.id, organizationId)).limit(1);
  if (!row) throw new IamError('NOT_FOUND');
  return row;
}

/** A user's role in an organization (one primary-key read), or null for a non-member. */
export async function memberRole(executor: Executor, organizationId: string, userId: string): Promise<OrganizationRole | null> {
  const [row] = await executor
    .select({ role: organizationMembers.role })
    .from(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

/** The actor's role, or `NOT_FOUND` for a non-member (the organization is not revealed). */
async function requireMember(executor: Executor, organizationId: string, userId: string): Promise<OrganizationRole> {
  const role = await memberRole(executor, organizationId, userId);
  if (!role) throw new IamError('NOT_FOUND');
  return role;
}

/** Admins and the owner; a member is `ORG_FORBIDDEN` (a member knows the organization exists). */
export async function requireManager(executor: Executor, organizationId: string, userId: string): Promise<OrganizationRole> {
  const role = await requireMember(executor, organizationId, userId);
  if (role === 'member') throw new IamError('ORG_FORBIDDEN');
  return role;
}

/**
 * An `org.*` audit row. It is the acting user's (`user_id`), with the member it concerns in
 * `data.memberId`: were it the member's row, `auth.activity` would show that member the
 * actor's address and browser, which one user must not learn of another (OWASP ASVS 4.0
 * V8.3.1). The organization's admins read it with `org.audit`.
 */
export function audit(
  tx: Transaction,
  actor: OrgActor,
  organizationId: string,
  event: { type: AuditEvent['type']; at: Date; memberId?: string; data?: Record<string, unknown> },
) {
  return recordAudit(tx, {
    type: event.type,
    at: event.at,
    userId: actor.userId,
    sessionId: actor.sessionId,
    client: actor.client,
    organizationId,
    data: { ...(event.memberId ? { memberId: event.memberId } : {}), ...event.data },
  });
}

/**
 * Just-in-time membership through the organization's SSO connection (docs/api.md, sso): the
 * user signed in through the organization's own identity provider with an address at one of
 * its verified domains, so the organization vouches for them. A member already keeps their
 * role; anyone else joins as `member` (audited `org.member_joined`, `via: 'sso'`). Returns
 * the role, or null when the organization is gone.
 */
export async function joinOrganizationViaSso(
  tx: Transaction,
  input: { organizationId: string; userId: string; now: Date; client: ClientInfo; sessionId?: string | null },
): Promise<OrganizationRole | null> {
  const existing = await memberRole(tx, input.organizationId, input.userId);
  if (existing) return existing;
  try {
    await lockOrganization(tx, input.organizationId, input.now);
  } catch (error) {
    if (error instanceof IamError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
  // Read again under the organization's row: a parallel sign-in of the same person may have added them.
  const raced = await memberRole(tx, input.organizationId, input.userId);
  if (raced) return raced;
  await tx
    .insert(organizationMembers)
    .values({ organizationId: input.organizationId, userId: input.userId, role: 'member', createdAt: input.now });
  await recordAudit(tx, {
    type: 'org.member_joined',
    at: input.now,
    userId: input.userId,
    sessionId: input.sessionId ?? null,
    client: input.client,
    organizationId: input.organizationId,
    data: { memberId: input.userId, role: 'member', via: 'sso' },
  });
  return 'member';
}

/** Sets a session's active organization (the sign-in through an organization's SSO acts in it). */
export async function setActiveOrganization(tx: Transaction, sessionId: string, organizationId: string): Promise<void> {
  await tx.update(sessions).set({ activeOrganizationId: organizationId }).where(eq(sessions.id, sessionId));
}

/** Sessions of a user that act in an organization lose it: their next token carries no `org` (`sessions_user_idx`). */
async function clearActiveOrganization(tx: Transaction, userId: string, organizationId: string): Promise<void> {
  await tx
    .update(sessions)
    .set({ activeOrganizationId: null })
    .where(and(eq(sessions.userId, userId), eq(sessions.activeOrganizationId, organizationId)));
}

/** Marks an invitation revoked and retires its link (the link names the invitation as its `user_id`). */
async function retireInvitation(tx: Transaction, invitationId: string, now: Date): Promise<void> {
  await tx.update(organizationInvitations).set({ revokedAt: now }).where(eq(organizationInvitations.id, invitationId));
  await retireLinks(tx, { userId: invitationId, purpose: invitationPurpose }, now);
}

function isPending(invitation: OrganizationInvitationRow, now: Date): boolean {
  return invitation.acceptedAt === null && invitation.revokedAt === null && invitation.expiresAt > now;
}

function invitationLink(publicUrl: string, token: string): string {
  const url = new URL('accept-invitation', publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  url.searchParams.set('token', token);
  return url.toString();
}

/** A new organization, the caller its owner. A slug asked for and taken is `ORG_SLUG_TAKEN`; a derived one gets a random word. */
export async function createOrganization(
  deps: OrgDeps,
  actor: OrgActor,
  input: { name: string; slug?: string | undefined },
): Promise<{ organization: OrganizationSummary }> {
  const now = deps.clock.now();
  const derived = input.slug === undefined;
  let slug = input.slug ?? slugFromName(input.name);
  for (let attempt = 1; ; attempt++) {
    const row: OrganizationRow = { id: newId('organization'), name: input.name, slug, requireSso: false, createdAt: now, updatedAt: now };
    try {
      await runTransaction(deps.db, async (tx) => {
        await tx.insert(organizations).values(row);
        await tx.insert(organizationMembers).values({ organizationId: row.id, userId: actor.userId, role: 'owner', createdAt: now });
        await audit(tx, actor, row.id, { type: 'org.created', at: now, data: { name: row.name, slug: row.slug } });
      });
      return { organization: summaryOf(row) };
    } catch (error) {
      // The unique slug index decides (organizations_slug_uq), also between two cluster nodes.
      if (!isDuplicateKeyError(error)) throw error;
      if (!derived || attempt >= 3) throw new IamError('ORG_SLUG_TAKEN');
      slug = suffixed(slugFromName(input.name));
    }
  }
}

/** The caller's organizations with their role in each, by name. */
export async function listOrganizations(deps: Pick<OrgDeps, 'db'>, userId: string) {
  const rows = await deps.db
    .select({ organization: organizations, role: organizationMembers.role })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(eq(organizationMembers.userId, userId))
    .orderBy(asc(organizations.name), asc(organizations.id));
  return { organizations: rows.map((row) => ({ organization: summaryOf(row.organization), role: row.role })) };
}

/** An organization, the caller's role and its members, for a member; `NOT_FOUND` for anyone else. */
export async function getOrganization(deps: Pick<OrgDeps, 'db'>, userId: string, organizationId: string) {
  const role = await requireMember(deps.db, organizationId, userId);
  const [organization] = await deps.db.select().from(organizations).where(eq(organizations.id, organizationId)).limit(1);
  if (!organization) throw new IamError('NOT_FOUND');
  const members = await deps.db
    .select({
      userId: organizationMembers.userId,
      email: users.email,
      name: users.name,
      role: organizationMembers.role,
      joinedAt: organizationMembers.createdAt,
    })
    .from(organizationMembers)
    .innerJoin(users, eq(users.id, organizationMembers.userId))
    .where(eq(organizationMembers.organizationId, organizationId))
    .orderBy(asc(organizationMembers.createdAt), asc(organizationMembers.userId));
  return { organization: { ...summaryOf(organization), requireSso: organization.requireSso }, role, members };
}

/**
 * Renames an organization or changes its slug (admins and the owner), or turns required SSO
 * on or off (the owner only; on only with a connection its registry resolves and a verified
 * domain, so nobody is locked out by a policy no sign-in can satisfy: `SSO_NO_CONNECTION`).
 */
export async function updateOrganization(
  deps: OrgDeps,
  actor: OrgActor,
  input: { organizationId: string; name?: string | undefined; slug?: string | undefined; requireSso?: boolean | undefined },
  ssoReady?: (tx: Transaction, organizationId: string) => Promise<boolean>,
): Promise<{ organization: OrganizationSummary & { requireSso: boolean } }> {
  const now = deps.clock.now();
  try {
    return await runTransaction(deps.db, async (tx) => {
      const before = await lockOrganization(tx, input.organizationId, now);
      const role = await requireManager(tx, before.id, actor.userId);
      if (input.requireSso !== undefined && input.requireSso !== before.requireSso) {
        if (role !== 'owner') throw new IamError('ORG_FORBIDDEN');
        if (input.requireSso && !(ssoReady && (await ssoReady(tx, before.id)))) throw new IamError('SSO_NO_CONNECTION');
      }
      const changes = {
        name: input.name ?? before.name,
        slug: input.slug ?? before.slug,
        requireSso: input.requireSso ?? before.requireSso,
      };
      await tx.update(organizations).set(changes).where(eq(organizations.id, before.id));
      await audit(tx, actor, before.id, {
        type: 'org.updated',
        at: now,
        data: { from: { name: before.name, slug: before.slug, requireSso: before.requireSso }, to: changes },
      });
      return { organization: { ...summaryOf({ ...before, ...changes }), requireSso: changes.requireSso } };
    });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new IamError('ORG_SLUG_TAKEN');
    throw error;
  }
}

/**
 * Invites an address: a single-use link (256 bits, 7 days, only its hash stored; OWASP ASVS 4.0
 * V2.5.x, V3.2.2) mailed through the outbox in the invitation's transaction. Admins and the
 * owner invite members; only the owner invites admins. A live invitation to the same address
 * is replaced, its link retired.
 */
export async function inviteMember(
  deps: OrgDeps,
  actor: OrgActor,
  input: { organizationId: string; email: string; role: 'admin' | 'member' },
): Promise<{ invitationId: string; expiresAt: Date }> {
  const now = deps.clock.now();
  const emailNormalized = normalizeEmail(input.email);
  const expiresAt = addSeconds(now, invitationTtlInSeconds);
  return runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, input.organizationId, now);
    const role = await requireManager(tx, organization.id, actor.userId);
    // Least privilege (ASVS V4.1.3): an admin cannot make another admin.
    if (input.role === 'admin' && role !== 'owner') throw new IamError('ORG_FORBIDDEN');
    const holder = await findUserByEmail(tx, input.email);
    if (holder && (await memberRole(tx, organization.id, holder.id))) throw new IamError('ORG_ALREADY_MEMBER');
    const live = await tx
      .select()
      .from(organizationInvitations)
      .where(
        and(eq(organizationInvitations.organizationId, organization.id), eq(organizationInvitations.emailNormalized, emailNormalized)),
      );
    for (const invitation of live.filter((row) => isPending(row, now))) await retireInvitation(tx, invitation.id, now);
    const inviter = await findUserById(tx, actor.userId);
    if (!inviter) throw new IamError('UNAUTHENTICATED');
    const invitationId = newId('invitation');
    await tx.insert(organizationInvitations).values({
      id: invitationId,
      organizationId: organization.id,
      email: input.email,
      emailNormalized,
      role: input.role,
      invitedBy: actor.userId,
      createdAt: now,
      expiresAt,
    });
    const token = await issueLink(
      tx,
      { purpose: invitationPurpose, userId: invitationId, ttlInSeconds: invitationTtlInSeconds, data: { organizationId: organization.id } },
      now,
    );
    await enqueueMail(
      tx,
      {
        userId: holder?.id ?? null,
        to: input.email,
        email: {
          template: 'org_invitation',
          props: {
            productName: deps.settings.productName,
            link: invitationLink(deps.settings.publicUrl, token),
            organizationName: organization.name,
            inviter: inviter.name ?? inviter.email,
            role: input.role,
            expiresInDays: invitationTtlInSeconds / 86_400,
          },
        },
      },
      now,
    );
    await audit(tx, actor, organization.id, {
      type: 'org.member_invited',
      at: now,
      data: { invitationId, email: input.email, role: input.role, replaced: live.filter((row) => isPending(row, now)).length },
    });
    // After the caller's commit, most of the time; the worker's poll delivers it otherwise.
    setTimeout(() => deps.outbox.nudge(), 50).unref();
    return { invitationId, expiresAt };
  });
}

/** The organization's pending invitations, newest first (admins and the owner). */
export async function listInvitations(deps: Pick<OrgDeps, 'db' | 'clock'>, userId: string, organizationId: string) {
  await requireManager(deps.db, organizationId, userId);
  const rows = await deps.db
    .select()
    .from(organizationInvitations)
    .where(
      and(
        eq(organizationInvitations.organizationId, organizationId),
        isNull(organizationInvitations.acceptedAt),
        isNull(organizationInvitations.revokedAt),
        gt(organizationInvitations.expiresAt, deps.clock.now()),
      ),
    )
    .orderBy(desc(organizationInvitations.createdAt), desc(organizationInvitations.id));
  return {
    invitations: rows.map((row) => ({
      id: row.id,
      email: row.email,
      role: row.role,
      invitedBy: row.invitedBy,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    })),
  };
}

/** Revokes a pending invitation: its link stops working at once. Another organization's, or one no longer pending, is `NOT_FOUND`. */
export async function revokeInvitation(
  deps: OrgDeps,
  actor: OrgActor,
  input: { organizationId: string; invitationId: string },
): Promise<{ status: 'revoked' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, organization.id, actor.userId);
    const [invitation] = await tx
      .select()
      .from(organizationInvitations)
      .where(and(eq(organizationInvitations.id, input.invitationId), eq(organizationInvitations.organizationId, organization.id)))
      .limit(1);
    if (!invitation || !isPending(invitation, now)) throw new IamError('NOT_FOUND');
    await retireInvitation(tx, invitation.id, now);
    await audit(tx, actor, organization.id, {
      type: 'org.invitation_revoked',
      at: now,
      data: { invitationId: invitation.id, email: invitation.email, role: invitation.role },
    });
  });
  return { status: 'revoked' };
}

/**
 * Accepts an invitation with its link's token. The signed-in user's verified address must be
 * the invited one (`ORG_INVITATION_EMAIL_MISMATCH`; the transaction rolls back and the link
 * stays usable); a link that is unknown, used, expired or revoked is `LINK_INVALID`.
 */
export async function acceptInvitation(
  deps: OrgDeps,
  actor: OrgActor,
  token: string,
): Promise<{ organization: OrganizationSummary; role: OrganizationRole }> {
  const now = deps.clock.now();
  return runTransaction(deps.db, async (tx) => {
    // The invitation the link names, read first so the organization's row is written before the
    // link's (the order every change of the organization takes: no deadlock with a replacement).
    const peek = await findLiveLink(tx, { token, purpose: invitationPurpose }, now);
    if (!peek) throw new IamError('LINK_INVALID');
    const [named] = await tx.select().from(organizationInvitations).where(eq(organizationInvitations.id, peek.userId)).limit(1);
    if (!named) throw new IamError('LINK_INVALID');
    const organization = await lockOrganization(tx, named.organizationId, now).catch((error: unknown) => {
      throw error instanceof IamError && error.code === 'NOT_FOUND' ? new IamError('LINK_INVALID') : error;
    });
    // Single use under the link's row lock (links component); the invitation read again after it.
    const link = await spendLink(tx, { token, purpose: invitationPurpose }, now);
    const [invitation] = link
      ? await tx.select().from(organizationInvitations).where(eq(organizationInvitations.id, link.userId)).limit(1)
      : [];
    if (!invitation || !isPending(invitation, now)) throw new IamError('LINK_INVALID');
    const user = await findUserById(tx, actor.userId);
    if (!user) throw new IamError('UNAUTHENTICATED');
    // The invitation was proof-of-possession of that mailbox only (NIST SP 800-63B §5.1.3: an
    // out-of-band secret binds to the address it was sent to): another account cannot use it.
    if (!user.emailVerifiedAt || user.emailNormalized !== invitation.emailNormalized) {
      throw new IamError('ORG_INVITATION_EMAIL_MISMATCH');
    }
    if (await memberRole(tx, organization.id, user.id)) throw new IamError('ORG_ALREADY_MEMBER');
    await tx
      .insert(organizationMembers)
      .values({ organizationId: organization.id, userId: user.id, role: invitation.role, createdAt: now });
    await tx.update(organizationInvitations).set({ acceptedAt: now }).where(eq(organizationInvitations.id, invitation.id));
    await audit(tx, actor, organization.id, {
      type: 'org.member_joined',
      at: now,
      data: { invitationId: invitation.id, role: invitation.role, invitedBy: invitation.invitedBy },
    });
    return { organization: summaryOf(organization), role: invitation.role };
  });
}

/** A member's role (`admin` or `member`), by the owner only; the owner's own role passes only by transfer. */
export async function setMemberRole(
  deps: OrgDeps,
  actor: OrgActor,
  input: { organizationId: string; userId: string; role: 'admin' | 'member' },
): Promise<{ userId: string; role: 'admin' | 'member' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, input.organizationId, now);
    const role = await requireMember(tx, organization.id, actor.userId);
    if (role !== 'owner') throw new IamError('ORG_FORBIDDEN');
    const target = await requireMember(tx, organization.id, input.userId);
    if (target === 'owner') throw new IamError('ORG_FORBIDDEN', { message: 'The owner keeps the role; transfer the ownership instead.' });
    if (target === input.role) return;
    await tx
      .update(organizationMembers)
      .set({ role: input.role })
      .where(and(eq(organizationMembers.organizationId, organization.id), eq(organizationMembers.userId, input.userId)));
    await audit(tx, actor, organization.id, {
      type: 'org.role_changed',
      at: now,
      memberId: input.userId,
      data: { from: target, to: input.role },
    });
  });
  return { userId: input.userId, role: input.role };
}

/** Ends a membership: the row goes, and the member's sessions acting in the organization lose it (their next token carries no `org`). */
export async function deleteMembership(tx: Transaction, organizationId: string, userId: string): Promise<void> {
  await tx
    .delete(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)));
  await clearActiveOrganization(tx, userId, organizationId);
}

/**
 * Ends a deleted account's place in its organizations, in the deletion's transaction: every
 * organization it belongs to is written first (the same ordering as any membership change), an
 * organization it alone belongs to is deleted with its invitations and their links, and the
 * owner of one that has other members is refused (`ORG_OWNER_MUST_TRANSFER`: an organization
 * never stays without an owner). The audit rows that name an organization stay, as the trail.
 */
export async function releaseOrganizationsOf(tx: Transaction, userId: string, now: Date): Promise<void> {
  const memberships = await tx
    .select({ organizationId: organizationMembers.organizationId, role: organizationMembers.role })
    .from(organizationMembers)
    .where(eq(organizationMembers.userId, userId));
  for (const membership of memberships) {
    const organization = await lockOrganization(tx, membership.organizationId, now);
    const [other] = await tx
      .select({ userId: organizationMembers.userId })
      .from(organizationMembers)
      .where(and(eq(organizationMembers.organizationId, organization.id), ne(organizationMembers.userId, userId)))
      .limit(1);
    if (other && membership.role === 'owner') throw new IamError('ORG_OWNER_MUST_TRANSFER');
    await tx
      .delete(organizationMembers)
      .where(and(eq(organizationMembers.organizationId, organization.id), eq(organizationMembers.userId, userId)));
    if (other) continue;
    const invitations = await tx
      .select({ id: organizationInvitations.id })
      .from(organizationInvitations)
      .where(eq(organizationInvitations.organizationId, organization.id));
    for (const invitation of invitations) await retireLinks(tx, { userId: invitation.id, purpose: invitationPurpose }, now);
    await tx.delete(organizationInvitations).where(eq(organizationInvitations.organizationId, organization.id));
    await tx.update(sessions).set({ activeOrganizationId: null }).where(eq(sessions.activeOrganizationId, organization.id));
    await eraseEnterpriseSetup(tx, organization.id);
    await tx.delete(organizations).where(eq(organizations.id, organization.id));
  }
}

/**
 * What an organization set up for enterprise sign-in goes with it: its SSO connections (their
 * flows stop), its domains (a verified one is free for another organization to prove), its SCIM
 * tokens (refused at once) and what its directory provisioned. Left behind, a verified domain
 * would keep routing its addresses to a connection nobody manages.
 */
async function eraseEnterpriseSetup(tx: Transaction, organizationId: string): Promise<void> {
  await tx.delete(ssoConnections).where(eq(ssoConnections.organizationId, organizationId));
  await tx.delete(organizationDomains).where(eq(organizationDomains.organizationId, organizationId));
  await tx.delete(scimTokens).where(eq(scimTokens.organizationId, organizationId));
  await tx.delete(scimGroupMembers).where(eq(scimGroupMembers.organizationId, organizationId));
  await tx.delete(scimGroups).where(eq(scimGroups.organizationId, organizationId));
  await tx.delete(scimRoleMappings).where(eq(scimRoleMappings.organizationId, organizationId));
  await tx.delete(scimUsers).where(eq(scimUsers.organizationId, organizationId));
}

/**
 * Removes a member: admins remove members, the owner anyone but itself. Effective at once for
 * `bff.authorize` with an organization (it reads the membership on every call); the member's
 * sessions acting in the organization lose it, so their next token carries no `org`.
 */
export async function removeMember(
  deps: OrgDeps,
  actor: OrgActor,
  input: { organizationId: string; userId: string },
): Promise<{ status: 'removed' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, input.organizationId, now);
    const role = await requireManager(tx, organization.id, actor.userId);
    if (input.userId === actor.userId) throw new IamError('ORG_FORBIDDEN', { message: 'Leave the organization with org.leave.' });
    const target = await requireMember(tx, organization.id, input.userId);
    if (target === 'owner' || (role === 'admin' && target !== 'member')) throw new IamError('ORG_FORBIDDEN');
    await deleteMembership(tx, organization.id, input.userId);
    await audit(tx, actor, organization.id, { type: 'org.member_removed', at: now, memberId: input.userId, data: { role: target } });
  });
  return { status: 'removed' };
}

/** Leaves an organization; the owner transfers the ownership first (`ORG_OWNER_MUST_TRANSFER`). */
export async function leaveOrganization(deps: OrgDeps, actor: OrgActor, organizationId: string): Promise<{ status: 'left' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, organizationId, now);
    const role = await requireMember(tx, organization.id, actor.userId);
    if (role === 'owner') throw new IamError('ORG_OWNER_MUST_TRANSFER');
    await deleteMembership(tx, organization.id, actor.userId);
    await audit(tx, actor, organization.id, { type: 'org.member_left', at: now, data: { role } });
  });
  return { status: 'left' };
}

/**
 * Hands the organization to another member, behind a step-up (`org_ownership`, spent in this
 * transaction; NIST SP 800-63B §4.2.3, ASVS V4.3.x: a sensitive administrative change asks
 * again). The old owner becomes an admin.
 */
export async function transferOwnership(
  deps: OrgDeps,
  actor: OrgActor,
  input: { organizationId: string; userId: string },
  stepUp: StepUpGuard,
): Promise<{ status: 'transferred' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, input.organizationId, now);
    const role = await requireMember(tx, organization.id, actor.userId);
    if (role !== 'owner') throw new IamError('ORG_FORBIDDEN');
    if (input.userId === actor.userId) throw new IamError('INVALID_INPUT', { message: 'You already own this organization.' });
    const target = await requireMember(tx, organization.id, input.userId);
    await stepUp(tx);
    const setRole = (userId: string, to: OrganizationRole) =>
      tx
        .update(organizationMembers)
        .set({ role: to })
        .where(and(eq(organizationMembers.organizationId, organization.id), eq(organizationMembers.userId, userId)));
    await setRole(input.userId, 'owner');
    await setRole(actor.userId, 'admin');
    await audit(tx, actor, organization.id, {
      type: 'org.ownership_transferred',
      at: now,
      memberId: input.userId,
      data: { from: actor.userId, to: input.userId, previousRole: target },
    });
  });
  return { status: 'transferred' };
}

/**
 * Sets the calling session's active organization (a member's only: `NOT_FOUND` otherwise; null
 * leaves it) and signs a new access token with the `org` and `org_role` claims.
 */
export async function switchOrganization(
  deps: OrgDeps,
  actor: OrgActor,
  organizationId: string | null,
): Promise<{ accessToken: string; accessTokenExpiresAt: Date; organization: { id: string; role: OrganizationRole } | null }> {
  const organization = await runTransaction(deps.db, async (tx) => {
    const role = organizationId === null ? null : await requireMember(tx, organizationId, actor.userId);
    await tx
      .update(sessions)
      .set({ activeOrganizationId: organizationId })
      .where(and(eq(sessions.id, actor.sessionId), eq(sessions.userId, actor.userId), isNull(sessions.revokedAt)));
    return organizationId !== null && role ? { id: organizationId, role } : null;
  });
  // The roles as the database has them now, as a refresh would sign them.
  const user = await findUserById(deps.db, actor.userId);
  if (!user || user.disabledAt) throw new IamError('UNAUTHENTICATED');
  const access = await deps.accessTokens.issue({ userId: user.id, sessionId: actor.sessionId, roles: user.roles, organization });
  return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, organization };
}

/**
 * Ends every live session of every member but the caller's current one, on every instance:
 * revoked in the database (members in one transaction with the audit row, behind a step-up),
 * then added to the revocation set here; other instances refuse their tokens within a second
 * (docs/architecture.md, revocation).
 */
export async function revokeOrganizationSessions(
  deps: OrgDeps,
  actor: OrgActor,
  organizationId: string,
  stepUp: StepUpGuard,
): Promise<{ count: number }> {
  const now = deps.clock.now();
  const revoked = await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, organizationId, now);
    await requireManager(tx, organization.id, actor.userId);
    await stepUp(tx);
    const members = await tx
      .select({ userId: organizationMembers.userId })
      .from(organizationMembers)
      .where(eq(organizationMembers.organizationId, organization.id));
    // Every member's live sessions in one read (sessions_user_idx per member), revoked in batches.
    const live = await tx
      .select({ id: sessions.id })
      .from(organizationMembers)
      .innerJoin(sessions, and(eq(sessions.userId, organizationMembers.userId), isNull(sessions.revokedAt)))
      .where(and(eq(organizationMembers.organizationId, organization.id), ne(organizationMembers.userId, actor.userId)));
    const ids = live.map((row) => row.id);
    await deps.sessions.revokeIn(tx, ids, 'admin', actor.client);
    await audit(tx, actor, organization.id, {
      type: 'org.sessions_revoked',
      at: now,
      data: { members: members.length, sessions: ids.length },
    });
    return ids;
  });
  for (const id of revoked) deps.revocations.add(id, now);
  // The caller's own other sessions, once the members' are ended (the current one stays).
  const own = await deps.sessions.revokeAllOfUser(actor.userId, 'admin', actor.client, { except: actor.sessionId });
  return { count: revoked.length + own };
}

const cursorOf = (value: string) => Buffer.from(value, 'utf8').toString('base64url');
const decodeCursor = (cursor: string | undefined): { at: Date; id: string } | null => {
  if (!cursor) return null;
  const [atText, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(Number(atText));
  return id && !Number.isNaN(at.getTime()) ? { at, id } : null;
};

/**
 * The organization's audit events, newest first, a keyset page at a time on (created_at, id),
 * served by `audit_events_organization_idx` (admins and the owner), shaped as `admin.audit.query`'s.
 */
export async function organizationAudit(
  deps: Pick<OrgDeps, 'db'>,
  userId: string,
  input: { organizationId: string; cursor?: string | undefined; limit?: number | undefined },
) {
  await requireManager(deps.db, input.organizationId, userId);
  const limit = input.limit ?? 100;
  const after = decodeCursor(input.cursor);
  const rows = await deps.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.organizationId, input.organizationId),
        after ? or(lt(auditEvents.createdAt, after.at), and(eq(auditEvents.createdAt, after.at), lt(auditEvents.id, after.id))) : undefined,
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
