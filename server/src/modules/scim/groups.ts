import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { type Executor, isDuplicateKeyError, runTransaction, type Transaction } from '../../db/client';
import { type ScimGroupRow, scimGroupMembers, scimGroups, scimUsers } from '../../db/tables';
import { newId } from '../crypto/ids';
import { lockScimOrganization, type ScimDeps, type ScimRequest, scimAudit } from './context';
import { pageOf, parseEqFilter } from './filter';
import { isRecord, type PatchOperation, parsePatchBody } from './patch';
import { groupSchema, listResponse, maxGroupMembers, maxPatchOperations, maxResultsPerPage, metaOf } from './protocol';
import { normalizeGroupName, syncRoles } from './roles';
import { badRequest, notFound, ScimError } from './scimError';
import { plainText } from './userResource';
import { roleAudit } from './users';

/**
 * SCIM Groups of an organization (RFC 7643 §4.2, RFC 7644 §3.3–§3.6). Their members are the
 * organization's SCIM Users; a group whose name is mapped (`sso.scim.mapGroup`) gives its
 * members that role (modules/scim/roles.ts). Each change writes the organization's row first,
 * and the roles of every member it touches are set again in the same transaction.
 */
interface GroupState {
  displayName: string;
  externalId: string | null;
  members: string[];
}

const textOf = (value: unknown, field: string, max: number): string | null => plainText(value, field, max) ?? null;

/** `members` as sent: `[{ value: "<User id>", display? }]`. */
function memberIdsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((entry) => {
    const id = isRecord(entry) ? entry.value : undefined;
    if (typeof id !== 'string' || id.length === 0 || id.length > 64)
      throw badRequest('invalidValue', 'Each member needs the value of a User id.');
    return id;
  });
}

function keyOf(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function parseGroupResource(body: unknown): GroupState {
  if (!isRecord(body)) throw badRequest('invalidSyntax', 'The body must be a Group resource.');
  const displayName = textOf(keyOf(body, 'displayName'), 'displayName', 255);
  if (!displayName) throw badRequest('invalidValue', 'displayName is required.');
  const members = keyOf(body, 'members');
  return {
    displayName,
    externalId: textOf(keyOf(body, 'externalId'), 'externalId', 255),
    members: members === undefined || members === null ? [] : memberIdsOf(members),
  };
}

async function membersOf(executor: Executor, groupIds: string[]): Promise<Map<string, Array<{ value: string; display: string }>>> {
  const byGroup = new Map<string, Array<{ value: string; display: string }>>();
  if (groupIds.length === 0) return byGroup;
  const rows = await executor
    .select({ groupId: scimGroupMembers.groupId, value: scimUsers.id, display: scimUsers.userName })
    .from(scimGroupMembers)
    .innerJoin(scimUsers, eq(scimUsers.id, scimGroupMembers.scimUserId))
    .where(inArray(scimGroupMembers.groupId, groupIds))
    .orderBy(asc(scimGroupMembers.createdAt), asc(scimUsers.id));
  for (const row of rows) {
    const list = byGroup.get(row.groupId) ?? [];
    list.push({ value: row.value, display: row.display });
    byGroup.set(row.groupId, list);
  }
  return byGroup;
}

function groupResourceOf(baseUrl: string, row: ScimGroupRow, members: Array<{ value: string; display: string }> | null) {
  return {
    schemas: [groupSchema],
    id: row.id,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    displayName: row.displayName,
    ...(members ? { members: members.map((member) => ({ ...member, $ref: `${baseUrl}/Users/${member.value}` })) } : {}),
    meta: metaOf(baseUrl, 'Group', row),
  };
}

async function findGroup(executor: Executor, organizationId: string, id: string): Promise<ScimGroupRow> {
  const [row] = await executor
    .select()
    .from(scimGroups)
    .where(and(eq(scimGroups.id, id), eq(scimGroups.organizationId, organizationId)))
    .limit(1);
  if (!row) throw notFound('Group');
  return row;
}

/** Members must be this organization's Users (another organization's ids are unknown here). */
async function checkMembers(tx: Transaction, organizationId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length > maxGroupMembers) throw badRequest('invalidValue', `A group holds at most ${maxGroupMembers} members.`);
  if (unique.length === 0) return unique;
  const found = await tx
    .select({ id: scimUsers.id })
    .from(scimUsers)
    .where(and(eq(scimUsers.organizationId, organizationId), inArray(scimUsers.id, unique)));
  if (found.length !== unique.length) throw badRequest('invalidValue', 'A member is not a User of this organization.');
  return unique;
}

/** Writes a group's new state (members replaced) and sets the roles of everyone it touched. */
async function writeGroup(
  tx: Transaction,
  request: ScimRequest,
  before: { row: ScimGroupRow; members: string[] } | null,
  state: GroupState,
  now: Date,
): Promise<ScimGroupRow> {
  const organizationId = request.caller.organizationId;
  const members = await checkMembers(tx, organizationId, state.members);
  const row: ScimGroupRow = before
    ? {
        ...before.row,
        displayName: state.displayName,
        displayNameNormalized: normalizeGroupName(state.displayName),
        externalId: state.externalId,
        version: before.row.version + 1,
        updatedAt: new Date(Math.max(now.getTime(), before.row.updatedAt.getTime() + 1)),
      }
    : {
        id: newId('scimGroup'),
        organizationId,
        displayName: state.displayName,
        displayNameNormalized: normalizeGroupName(state.displayName),
        externalId: state.externalId,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
  if (before) {
    await tx
      .update(scimGroups)
      .set({
        displayName: row.displayName,
        displayNameNormalized: row.displayNameNormalized,
        externalId: row.externalId,
        version: row.version,
        updatedAt: row.updatedAt,
      })
      .where(eq(scimGroups.id, row.id));
  } else {
    await tx.insert(scimGroups).values(row);
  }
  const previous = new Set(before?.members ?? []);
  const next = new Set(members);
  const removed = [...previous].filter((id) => !next.has(id));
  const added = members.filter((id) => !previous.has(id));
  if (removed.length > 0) {
    await tx.delete(scimGroupMembers).where(and(eq(scimGroupMembers.groupId, row.id), inArray(scimGroupMembers.scimUserId, removed)));
  }
  if (added.length > 0) {
    await tx.insert(scimGroupMembers).values(added.map((scimUserId) => ({ groupId: row.id, scimUserId, organizationId, createdAt: now })));
  }
  await scimAudit(tx, request, {
    type: 'org.scim_group_changed',
    at: now,
    data: {
      groupId: row.id,
      displayName: row.displayName,
      change: before ? 'updated' : 'created',
      added: added.length,
      removed: removed.length,
    },
  });
  // A rename changes which mapping applies: every member's role is set again.
  const touched =
    before && before.row.displayNameNormalized !== row.displayNameNormalized ? [...previous, ...members] : [...added, ...removed];
  await syncRoles(tx, organizationId, touched, roleAudit(request, now));
  return row;
}

async function memberIdsOfGroup(executor: Executor, groupId: string): Promise<string[]> {
  const rows = await executor
    .select({ id: scimGroupMembers.scimUserId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, groupId));
  return rows.map((row) => row.id);
}

function uniquenessOf(error: unknown): never {
  if (isDuplicateKeyError(error)) throw new ScimError(409, 'A Group with this displayName already exists.', 'uniqueness');
  throw error;
}

/** POST /Groups. */
export async function createScimGroup(deps: ScimDeps, request: ScimRequest, body: unknown) {
  const state = parseGroupResource(body);
  const now = deps.clock.now();
  const row = await runTransaction(deps.db, async (tx) => {
    await lockScimOrganization(tx, request, now);
    return writeGroup(tx, request, null, state, now);
  }).catch(uniquenessOf);
  return groupResourceOf(request.baseUrl, row, (await membersOf(deps.db, [row.id])).get(row.id) ?? []);
}

/** GET /Groups/:id; `excludedAttributes=members` leaves the members out (RFC 7644 §3.4.2.5). */
export async function getScimGroup(deps: ScimDeps, request: ScimRequest, id: string, options: { withMembers: boolean }) {
  const row = await findGroup(deps.db, request.caller.organizationId, id);
  const members = options.withMembers ? ((await membersOf(deps.db, [row.id])).get(row.id) ?? []) : null;
  return groupResourceOf(request.baseUrl, row, members);
}

/** GET /Groups with `filter` (`displayName`, `externalId` or `id` eq), `startIndex` and `count`. */
export async function listScimGroups(
  deps: ScimDeps,
  request: ScimRequest,
  query: { filter?: unknown; startIndex?: unknown; count?: unknown },
  options: { withMembers: boolean },
) {
  if (query.filter !== undefined && typeof query.filter !== 'string') throw badRequest('invalidFilter', 'Pass one filter.');
  const filter = query.filter ? parseEqFilter(query.filter, ['displayName', 'externalId', 'id'], groupSchema) : null;
  const page = pageOf(query, maxResultsPerPage);
  const where = and(
    eq(scimGroups.organizationId, request.caller.organizationId),
    filter?.attribute === 'displayName' ? eq(scimGroups.displayNameNormalized, normalizeGroupName(filter.value)) : undefined,
    filter?.attribute === 'externalId' ? eq(scimGroups.externalId, filter.value) : undefined,
    filter?.attribute === 'id' ? eq(scimGroups.id, filter.value) : undefined,
  );
  const [total] = await deps.db.select({ n: count() }).from(scimGroups).where(where);
  const rows =
    page.count === 0
      ? []
      : await deps.db
          .select()
          .from(scimGroups)
          .where(where)
          .orderBy(asc(scimGroups.createdAt), asc(scimGroups.id))
          .limit(page.count)
          .offset(page.startIndex - 1);
  const members = options.withMembers
    ? await membersOf(
        deps.db,
        rows.map((row) => row.id),
      )
    : null;
  return listResponse(
    rows.map((row) => groupResourceOf(request.baseUrl, row, members ? (members.get(row.id) ?? []) : null)),
    total?.n ?? 0,
    page.startIndex,
  );
}

async function changeGroup(deps: ScimDeps, request: ScimRequest, id: string, next: (state: GroupState) => GroupState) {
  const now = deps.clock.now();
  const row = await runTransaction(deps.db, async (tx) => {
    await lockScimOrganization(tx, request, now);
    const before = await findGroup(tx, request.caller.organizationId, id);
    const members = await memberIdsOfGroup(tx, before.id);
    const state = next({ displayName: before.displayName, externalId: before.externalId, members });
    return writeGroup(tx, request, { row: before, members }, state, now);
  }).catch(uniquenessOf);
  return groupResourceOf(request.baseUrl, row, (await membersOf(deps.db, [row.id])).get(row.id) ?? []);
}

/** PUT /Groups/:id. */
export function replaceScimGroup(deps: ScimDeps, request: ScimRequest, id: string, body: unknown) {
  const state = parseGroupResource(body);
  return changeGroup(deps, request, id, () => state);
}

function applyGroupOperation(state: GroupState, operation: PatchOperation): GroupState {
  const path = operation.path;
  if (!path) {
    // Okta: `{"op":"replace","value":{"id":"…","displayName":"…"}}`; members may ride along.
    let next = state;
    for (const [key, value] of Object.entries(operation.value as Record<string, unknown>)) {
      const name = key.toLowerCase().replace(`${groupSchema.toLowerCase()}:`, '');
      if (name === 'displayname' || name === 'externalid' || name === 'members') {
        next = applyGroupOperation(next, {
          op: operation.op,
          path: { attribute: name, filter: null, subAttribute: null, extension: false },
          value,
        });
      }
    }
    return next;
  }
  if (path.extension) return state;
  if (path.attribute === 'displayname' || path.attribute === 'externalid') {
    const field = path.attribute === 'displayname' ? 'displayName' : 'externalId';
    if (operation.op === 'remove') {
      if (field === 'displayName') throw badRequest('mutability', 'displayName is required.');
      return { ...state, externalId: null };
    }
    const text = textOf(operation.value, field, 255);
    if (field === 'displayName' && !text) throw badRequest('invalidValue', 'displayName is required.');
    return { ...state, [field]: text };
  }
  if (path.attribute !== 'members') return state;
  if (path.filter) {
    // Okta: `{"op":"remove","path":"members[value eq \"<id>\"]"}`.
    if (path.filter.attribute !== 'value' || operation.op !== 'remove') {
      throw badRequest('invalidPath', 'A members filter must be `members[value eq "<User id>"]`, to remove that member.');
    }
    const gone = path.filter.value;
    return { ...state, members: state.members.filter((id) => id !== gone) };
  }
  if (operation.op === 'remove') {
    // Entra ID: `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}`; without a value, every member.
    if (operation.value === undefined || operation.value === null) return { ...state, members: [] };
    const gone = new Set(memberIdsOf(operation.value));
    return { ...state, members: state.members.filter((id) => !gone.has(id)) };
  }
  const ids = operation.value === null ? [] : memberIdsOf(operation.value);
  return { ...state, members: operation.op === 'add' ? [...state.members, ...ids] : ids };
}

/** PATCH /Groups/:id: members added or removed (as Okta and Entra ID send them), displayName or externalId replaced. */
export function patchScimGroup(deps: ScimDeps, request: ScimRequest, id: string, body: unknown) {
  const operations = parsePatchBody(body, groupSchema, maxPatchOperations);
  return changeGroup(deps, request, id, (state) => operations.reduce(applyGroupOperation, state));
}

/** DELETE /Groups/:id: the group goes, and its members' roles follow their other groups. */
export async function deleteScimGroup(deps: ScimDeps, request: ScimRequest, id: string): Promise<void> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    await lockScimOrganization(tx, request, now);
    const row = await findGroup(tx, request.caller.organizationId, id);
    const members = await memberIdsOfGroup(tx, row.id);
    await tx.delete(scimGroupMembers).where(eq(scimGroupMembers.groupId, row.id));
    await tx.delete(scimGroups).where(eq(scimGroups.id, row.id));
    await scimAudit(tx, request, {
      type: 'org.scim_group_changed',
      at: now,
      data: { groupId: row.id, displayName: row.displayName, change: 'deleted' },
    });
    await syncRoles(tx, request.caller.organizationId, members, roleAudit(request, now));
  });
}
