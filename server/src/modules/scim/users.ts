import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { isDuplicateKeyError, runTransaction, type Transaction } from '../../db/client';
import { organizationMembers, type ScimUserRow, scimGroupMembers, scimUsers, type UserRow, users } from '../../db/tables';
import { newId } from '../crypto/ids';
import { deleteMembership, memberRole } from '../orgs/orgs';
import { isVerifiedDomainOf } from '../sso/domains';
import { normalizeEmail } from '../users/email';
import { createUser, findUserByEmail, findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { lockScimOrganization, type ScimDeps, type ScimRequest, scimAudit } from './context';
import { pageOf, parseEqFilter } from './filter';
import { parsePatchBody, parsePatchPath } from './patch';
import { listResponse, maxPatchOperations, maxResultsPerPage, userSchema } from './protocol';
import { syncRoles } from './roles';
import { badRequest, notFound, ScimError } from './scimError';
import { applyUserPatch, parseUserResource, type ScimUserInput, userDocumentOf, userResourceOf } from './userResource';

/**
 * SCIM Users of an organization (RFC 7644 §3.3–§3.6; docs/api.md, SCIM). A User is a member:
 * its `userName` is the account's address, at one of the organization's verified domains (the
 * domain is what lets the organization vouch for the address, as for JIT sign-in through its
 * SSO connection). Every change writes the organization's row first (`lockOrganization`), so
 * two changes of one organization take turns on every node; the unique indexes on
 * (organization, userName) and (organization, account) decide duplicates.
 *
 * Deactivation (`active: false`) is deprovisioning (OWASP ASVS 4.0 V2.5.x / V3.3.1; NIST SP
 * 800-63B §6.1.4, invalidation of an authenticator's binding at the subscriber's end): when the
 * account's address is at one of the organization's verified domains, the organization owns the
 * address and the account is disabled (no sign-in anywhere, as `admin.users.disable` does);
 * otherwise the account is the person's own and only the membership ends. Either way every
 * session of the account is revoked at once, on every instance (the revocation set). Only a
 * disable this identity made is lifted by reactivation.
 */

/** The reason an account disabled by deprovisioning carries (`users.disabled_reason`). */
export const scimDisabledReason = "Deactivated by the organization's identity provider (SCIM)";

type Outcome<T> = { result: T; revoked: string[]; userId: string | null };

async function settle<T>(deps: ScimDeps, outcome: Outcome<T>): Promise<T> {
  const now = deps.clock.now();
  for (const id of outcome.revoked) deps.revocations.add(id, now);
  if (outcome.userId) deps.users.invalidate(outcome.userId);
  return outcome.result;
}

async function findScimUser(tx: Transaction, organizationId: string, id: string): Promise<ScimUserRow> {
  const [row] = await tx
    .select()
    .from(scimUsers)
    .where(and(eq(scimUsers.id, id), eq(scimUsers.organizationId, organizationId)))
    .limit(1);
  if (!row) throw notFound('User');
  return row;
}

/** Makes the account a member (`member`, or the role its groups give) when it is not one. */
async function ensureMember(tx: Transaction, request: ScimRequest, userId: string, scimUserId: string | null, now: Date) {
  const organizationId = request.caller.organizationId;
  if (await memberRole(tx, organizationId, userId)) return;
  await tx.insert(organizationMembers).values({ organizationId, userId, role: 'member', createdAt: now });
  await scimAudit(tx, request, { type: 'org.member_joined', at: now, memberId: userId, data: { role: 'member' } });
  if (scimUserId) await syncRoles(tx, organizationId, [scimUserId], roleAudit(request, now));
}

export const roleAudit =
  (request: ScimRequest, now: Date) =>
  (tx: Transaction, change: { memberId: string; from: string; to: string }): Promise<void> =>
    scimAudit(tx, request, { type: 'org.role_changed', at: now, memberId: change.memberId, data: { from: change.from, to: change.to } });

/**
 * Applies `active` to the account and its membership (see the module's comment); returns the
 * sessions revoked. The owner is never deprovisioned by SCIM (400 `mutability`).
 */
async function applyActive(
  tx: Transaction,
  deps: ScimDeps,
  request: ScimRequest,
  row: ScimUserRow,
  user: UserRow,
  active: boolean,
  now: Date,
): Promise<{ revoked: string[]; accountDisabled: boolean }> {
  const organizationId = request.caller.organizationId;
  if (!active) {
    if ((await memberRole(tx, organizationId, user.id)) === 'owner') {
      throw badRequest('mutability', "The organization's owner is not deprovisioned through SCIM; transfer the ownership first.");
    }
    const atDomain = await isVerifiedDomainOf(tx, organizationId, user.email);
    let accountDisabled = row.accountDisabled;
    if (atDomain && !user.disabledAt) {
      await tx.update(users).set({ disabledAt: now, disabledReason: scimDisabledReason, updatedAt: now }).where(eq(users.id, user.id));
      await emitSecurityEvent(deps, tx, { type: 'user.disabled', userId: user.id, data: { reason: scimDisabledReason } }, now);
      accountDisabled = true;
    }
    if (!atDomain) await deleteMembership(tx, organizationId, user.id);
    const revoked = await deps.sessions.revokeAllOfUserIn(tx, user.id, 'admin', request.client);
    await scimAudit(tx, request, {
      type: 'org.scim_user_deactivated',
      at: now,
      memberId: user.id,
      data: { scimUserId: row.id, accountDisabled: atDomain, membershipEnded: !atDomain, sessions: revoked.length },
    });
    return { revoked, accountDisabled };
  }
  // Reactivation lifts only the disable this identity made (an administrator's own stays).
  let lifted = false;
  if (row.accountDisabled && user.disabledAt && user.disabledReason === scimDisabledReason) {
    await tx.update(users).set({ disabledAt: null, disabledReason: null, updatedAt: now }).where(eq(users.id, user.id));
    await emitSecurityEvent(deps, tx, { type: 'user.enabled', userId: user.id, data: {} }, now);
    lifted = true;
  }
  await ensureMember(tx, request, user.id, row.id, now);
  await scimAudit(tx, request, {
    type: 'org.scim_user_reactivated',
    at: now,
    memberId: user.id,
    data: { scimUserId: row.id, accountEnabled: lifted },
  });
  return { revoked: [], accountDisabled: false };
}

/** POST /Users. */
export async function createScimUser(deps: ScimDeps, request: ScimRequest, body: unknown) {
  const input = parseUserResource(body);
  const organizationId = request.caller.organizationId;
  const now = deps.clock.now();
  try {
    const outcome = await runTransaction(deps.db, async (tx): Promise<Outcome<ScimUserRow>> => {
      await lockScimOrganization(tx, request, now);
      if (!(await isVerifiedDomainOf(tx, organizationId, input.userName))) {
        throw badRequest('invalidValue', "userName must be an address at one of the organization's verified domains.");
      }
      const normalized = normalizeEmail(input.userName);
      const [taken] = await tx
        .select({ id: scimUsers.id })
        .from(scimUsers)
        .where(and(eq(scimUsers.organizationId, organizationId), eq(scimUsers.userNameNormalized, normalized)))
        .limit(1);
      if (taken) throw new ScimError(409, 'A User with this userName already exists.', 'uniqueness');
      let user = await findUserByEmail(tx, input.userName);
      if (user && user.emailVerifiedAt === null) {
        // An account nobody proved the address of may be someone's pre-registration of it
        // (account pre-hijacking): it is not taken over, not even for the domain's owner.
        throw new ScimError(
          409,
          'An account whose address was never verified holds this userName; it must verify its address first.',
          'uniqueness',
        );
      }
      let created = false;
      if (!user) {
        const name = input.attributes.displayName ?? input.attributes.name?.formatted ?? nameOf(input);
        user = await createUser(
          tx,
          // The organization vouches for addresses at its verified domain: the address counts as
          // verified, and the account has no password (it signs in through SSO or by email).
          { email: input.userName, name: name?.slice(0, 100) ?? null, passwordHash: null, emailVerifiedAt: now },
          { now, client: request.client, auditData: { via: 'scim', organizationId } },
        );
        await emitSecurityEvent(
          deps,
          tx,
          { type: 'user.created', userId: user.id, data: { email: user.email, emailVerified: true, method: 'scim', organizationId } },
          now,
        );
        created = true;
      }
      const row: ScimUserRow = {
        id: newId('scimUser'),
        organizationId,
        userId: user.id,
        externalId: input.externalId,
        userName: input.userName,
        userNameNormalized: normalized,
        active: true,
        accountDisabled: false,
        attributes: input.attributes,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insert(scimUsers).values(row);
      // A new identity of an account this organization deprovisioned before: it is the organization's again.
      if (user.disabledAt && user.disabledReason === scimDisabledReason) {
        await tx.update(users).set({ disabledAt: null, disabledReason: null, updatedAt: now }).where(eq(users.id, user.id));
        await emitSecurityEvent(deps, tx, { type: 'user.enabled', userId: user.id, data: {} }, now);
      }
      await ensureMember(tx, request, user.id, null, now);
      await scimAudit(tx, request, {
        type: 'org.scim_user_provisioned',
        at: now,
        memberId: user.id,
        data: { scimUserId: row.id, accountCreated: created },
      });
      let revoked: string[] = [];
      if (!input.active) {
        const fresh = (await findUserById(tx, user.id)) ?? user;
        const applied = await applyActive(tx, deps, request, row, fresh, false, now);
        revoked = applied.revoked;
        row.active = false;
        row.accountDisabled = applied.accountDisabled;
        await tx.update(scimUsers).set({ active: false, accountDisabled: applied.accountDisabled }).where(eq(scimUsers.id, row.id));
      }
      return { result: row, revoked, userId: user.id };
    });
    return userResourceOf(request.baseUrl, await settle(deps, outcome));
  } catch (error) {
    // Two creations of one userName (or one account) at once: the unique index decides.
    if (isDuplicateKeyError(error)) throw new ScimError(409, 'A User with this userName already exists.', 'uniqueness');
    throw error;
  }
}

function nameOf(input: ScimUserInput): string | undefined {
  const parts = [input.attributes.name?.givenName, input.attributes.name?.familyName].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** GET /Users/:id (404 for another organization's). */
export async function getScimUser(deps: ScimDeps, request: ScimRequest, id: string) {
  const [row] = await deps.db
    .select()
    .from(scimUsers)
    .where(and(eq(scimUsers.id, id), eq(scimUsers.organizationId, request.caller.organizationId)))
    .limit(1);
  if (!row) throw notFound('User');
  return userResourceOf(request.baseUrl, row);
}

/** GET /Users with `filter` (`userName`, `externalId` or `id` eq), `startIndex` and `count`. */
export async function listScimUsers(
  deps: ScimDeps,
  request: ScimRequest,
  query: { filter?: unknown; startIndex?: unknown; count?: unknown },
) {
  if (query.filter !== undefined && typeof query.filter !== 'string') throw badRequest('invalidFilter', 'Pass one filter.');
  const filter = query.filter ? parseEqFilter(query.filter, ['userName', 'externalId', 'id'], userSchema) : null;
  const page = pageOf(query, maxResultsPerPage);
  const where = and(
    eq(scimUsers.organizationId, request.caller.organizationId),
    filter?.attribute === 'userName' ? eq(scimUsers.userNameNormalized, normalizeEmail(filter.value)) : undefined,
    filter?.attribute === 'externalId' ? eq(scimUsers.externalId, filter.value) : undefined,
    filter?.attribute === 'id' ? eq(scimUsers.id, filter.value) : undefined,
  );
  const [total] = await deps.db.select({ n: count() }).from(scimUsers).where(where);
  const rows =
    page.count === 0
      ? []
      : await deps.db
          .select()
          .from(scimUsers)
          .where(where)
          .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id))
          .limit(page.count)
          .offset(page.startIndex - 1);
  return listResponse(
    rows.map((row) => userResourceOf(request.baseUrl, row)),
    total?.n ?? 0,
    page.startIndex,
  );
}

/** Replaces a User with what `next` makes of it (PUT, PATCH): userName may change only in case. */
async function changeScimUser(deps: ScimDeps, request: ScimRequest, id: string, next: (row: ScimUserRow) => ScimUserInput) {
  const now = deps.clock.now();
  const outcome = await runTransaction(deps.db, async (tx): Promise<Outcome<ScimUserRow>> => {
    await lockScimOrganization(tx, request, now);
    const row = await findScimUser(tx, request.caller.organizationId, id);
    const input = next(row);
    if (normalizeEmail(input.userName) !== row.userNameNormalized) {
      throw badRequest(
        'mutability',
        "userName is the account's address and cannot be changed through SCIM; delete the User and create another.",
      );
    }
    const user = await findUserById(tx, row.userId);
    if (!user) throw notFound('User');
    let revoked: string[] = [];
    let accountDisabled = row.accountDisabled;
    if (input.active !== row.active) {
      const applied = await applyActive(tx, deps, request, row, user, input.active, now);
      revoked = applied.revoked;
      accountDisabled = applied.accountDisabled;
    }
    const changes = {
      userName: input.userName,
      externalId: input.externalId,
      active: input.active,
      accountDisabled,
      attributes: input.attributes,
      version: row.version + 1,
      updatedAt: new Date(Math.max(now.getTime(), row.updatedAt.getTime() + 1)),
    };
    await tx.update(scimUsers).set(changes).where(eq(scimUsers.id, row.id));
    await scimAudit(tx, request, { type: 'org.scim_user_updated', at: now, memberId: row.userId, data: { scimUserId: row.id } });
    return { result: { ...row, ...changes }, revoked, userId: row.userId };
  });
  return userResourceOf(request.baseUrl, await settle(deps, outcome));
}

/** PUT /Users/:id (RFC 7644 §3.5.1): the attributes the service keeps are replaced; missing ones are cleared. */
export function replaceScimUser(deps: ScimDeps, request: ScimRequest, id: string, body: unknown) {
  const input = parseUserResource(body);
  return changeScimUser(deps, request, id, () => input);
}

/** PATCH /Users/:id (RFC 7644 §3.5.2): the operations apply to the resource, and the result is checked as a PUT's body. */
export function patchScimUser(deps: ScimDeps, request: ScimRequest, id: string, body: unknown) {
  const operations = parsePatchBody(body, userSchema, maxPatchOperations);
  return changeScimUser(deps, request, id, (row) =>
    parseUserResource(applyUserPatch(userDocumentOf(row), operations, (raw) => parsePatchPath(raw, userSchema))),
  );
}

/**
 * DELETE /Users/:id: the SCIM identity and its group places go, the membership ends and every
 * session of the account is revoked. An account this organization's deprovisioning disabled
 * stays disabled (the address is the organization's; an administrator of the service may
 * enable it). The owner's membership stays (the owner is never changed by SCIM).
 */
export async function deleteScimUser(deps: ScimDeps, request: ScimRequest, id: string): Promise<void> {
  const organizationId = request.caller.organizationId;
  const now = deps.clock.now();
  const outcome = await runTransaction(deps.db, async (tx): Promise<Outcome<null>> => {
    await lockScimOrganization(tx, request, now);
    const row = await findScimUser(tx, organizationId, id);
    const role = await memberRole(tx, organizationId, row.userId);
    await tx.delete(scimGroupMembers).where(eq(scimGroupMembers.scimUserId, row.id));
    await tx.delete(scimUsers).where(eq(scimUsers.id, row.id));
    let revoked: string[] = [];
    if (role !== 'owner') {
      if (role) await deleteMembership(tx, organizationId, row.userId);
      revoked = await deps.sessions.revokeAllOfUserIn(tx, row.userId, 'admin', request.client);
    }
    await scimAudit(tx, request, {
      type: 'org.scim_user_deleted',
      at: now,
      memberId: row.userId,
      data: { scimUserId: row.id, membershipEnded: role !== null && role !== 'owner', sessions: revoked.length },
    });
    return { result: null, revoked, userId: row.userId };
  });
  await settle(deps, outcome);
}

/**
 * A deleted account's SCIM identities and their group places go with it, in the deletion's
 * transaction (they hold its address and names: personal data, erased as the rest). The
 * provider's next GET of the User answers 404, and it may provision the address again.
 */
export async function forgetScimIdentitiesOf(tx: Transaction, userId: string): Promise<void> {
  const identities = await tx.select({ id: scimUsers.id }).from(scimUsers).where(eq(scimUsers.userId, userId));
  if (identities.length === 0) return;
  await tx.delete(scimGroupMembers).where(
    inArray(
      scimGroupMembers.scimUserId,
      identities.map((row) => row.id),
    ),
  );
  await tx.delete(scimUsers).where(eq(scimUsers.userId, userId));
}
