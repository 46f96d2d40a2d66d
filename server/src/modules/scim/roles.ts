import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { type Database, type Executor, runTransaction, type Transaction } from '../../db/client';
import { organizationMembers, scimGroupMembers, scimGroups, scimRoleMappings, scimUsers } from '../../db/tables';
import type { Clock } from '../clock';
import { audit, lockOrganization, memberRole, type OrgActor, requireManager, type StepUpGuard } from '../orgs/orgs';

/**
 * The organization role a SCIM-provisioned member holds follows their groups (docs/api.md,
 * SCIM groups and roles): the highest role a mapped group of theirs gives (`admin` over
 * `member`), and `member` when none is mapped. The owner is never changed by SCIM: ownership
 * passes only by `org.transferOwnership` (least privilege, OWASP ASVS 4.0 V4.1.3: an identity
 * provider's group cannot take an organization from its owner). A change is written as
 * `org.setRole` writes it (the membership row, `org.role_changed`), so the member's next access
 * token (refresh, `org.switch`) carries the new `org_role` and `bff.authorize` sees it at once.
 */
export type MappedRole = 'admin' | 'member';

export const normalizeGroupName = (name: string) => name.trim().normalize('NFC').toLowerCase();

/** Records a role change; the SCIM request or the signed-in admin who caused it writes the row. */
export type RoleChangeAudit = (tx: Transaction, change: { memberId: string; from: MappedRole; to: MappedRole }) => Promise<void>;

/** The role a SCIM user's groups give (the highest mapped one; `member` when none). */
async function roleFromGroups(executor: Executor, organizationId: string, scimUserId: string): Promise<MappedRole> {
  const rows = await executor
    .select({ role: scimRoleMappings.role })
    .from(scimGroupMembers)
    .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
    .innerJoin(
      scimRoleMappings,
      and(
        eq(scimRoleMappings.organizationId, scimGroups.organizationId),
        eq(scimRoleMappings.displayNameNormalized, scimGroups.displayNameNormalized),
      ),
    )
    .where(and(eq(scimGroupMembers.scimUserId, scimUserId), eq(scimGroups.organizationId, organizationId)));
  return rows.some((row) => row.role === 'admin') ? 'admin' : 'member';
}

/**
 * Sets each SCIM user's organization role from their groups, inside a change that has written
 * the organization's row. A user without a membership (deactivated outside a verified domain)
 * or the owner is left as is.
 */
export async function syncRoles(
  tx: Transaction,
  organizationId: string,
  scimUserIds: Iterable<string>,
  onChange: RoleChangeAudit,
): Promise<void> {
  const ids = [...new Set(scimUserIds)];
  if (ids.length === 0) return;
  const rows = await tx
    .select({ id: scimUsers.id, userId: scimUsers.userId })
    .from(scimUsers)
    .where(and(eq(scimUsers.organizationId, organizationId), inArray(scimUsers.id, ids)));
  for (const row of rows) {
    const current = await memberRole(tx, organizationId, row.userId);
    if (current === null || current === 'owner') continue;
    const target = await roleFromGroups(tx, organizationId, row.id);
    if (target === current) continue;
    await tx
      .update(organizationMembers)
      .set({ role: target })
      .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, row.userId)));
    await onChange(tx, { memberId: row.userId, from: current, to: target });
  }
}

/** The SCIM users in the organization's groups of one name. */
async function membersOfGroupsNamed(executor: Executor, organizationId: string, normalizedName: string): Promise<string[]> {
  const rows = await executor
    .select({ scimUserId: scimGroupMembers.scimUserId })
    .from(scimGroupMembers)
    .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
    .where(and(eq(scimGroups.organizationId, organizationId), eq(scimGroups.displayNameNormalized, normalizedName)));
  return rows.map((row) => row.scimUserId);
}

export interface RoleDeps {
  db: Database;
  clock: Clock;
}

/**
 * `sso.scim.mapGroup`: the role the group of that name gives its members (`null` removes the
 * mapping); the members' roles follow at once. Admins and the owner, behind the `org_sso` step-up.
 */
export async function mapScimGroup(
  deps: RoleDeps,
  actor: OrgActor,
  input: { organizationId: string; displayName: string; role: MappedRole | null },
  stepUp: StepUpGuard,
): Promise<{ displayName: string; role: MappedRole | null }> {
  const now = deps.clock.now();
  const normalized = normalizeGroupName(input.displayName);
  await runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    await stepUp(tx);
    const key = and(eq(scimRoleMappings.organizationId, input.organizationId), eq(scimRoleMappings.displayNameNormalized, normalized));
    if (input.role === null) {
      await tx.delete(scimRoleMappings).where(key);
    } else {
      await tx
        .insert(scimRoleMappings)
        .values({
          organizationId: input.organizationId,
          displayName: input.displayName,
          displayNameNormalized: normalized,
          role: input.role,
          createdAt: now,
        })
        .onDuplicateKeyUpdate({ set: { role: input.role, displayName: input.displayName } });
    }
    await audit(tx, actor, input.organizationId, {
      type: 'org.scim_group_mapped',
      at: now,
      data: { displayName: input.displayName, role: input.role },
    });
    await syncRoles(tx, input.organizationId, await membersOfGroupsNamed(tx, input.organizationId, normalized), (inner, change) =>
      audit(inner, actor, input.organizationId, {
        type: 'org.role_changed',
        at: now,
        memberId: change.memberId,
        data: { from: change.from, to: change.to, via: 'scim_group_mapping' },
      }),
    );
  });
  return { displayName: input.displayName, role: input.role };
}

/** `sso.scim.groupRoles`: the organization's mappings, and the groups its provider pushed with their member counts. */
export async function listScimGroupRoles(deps: Pick<RoleDeps, 'db'>, actor: OrgActor, organizationId: string) {
  await requireManager(deps.db, organizationId, actor.userId);
  const mappings = await deps.db
    .select({ displayName: scimRoleMappings.displayName, role: scimRoleMappings.role, createdAt: scimRoleMappings.createdAt })
    .from(scimRoleMappings)
    .where(eq(scimRoleMappings.organizationId, organizationId))
    .orderBy(asc(scimRoleMappings.displayNameNormalized));
  const groups = await deps.db
    .select({
      id: scimGroups.id,
      displayName: scimGroups.displayName,
      members: sql<number>`(SELECT COUNT(*) FROM ${scimGroupMembers} WHERE ${scimGroupMembers.groupId} = ${scimGroups.id})`.mapWith(Number),
    })
    .from(scimGroups)
    .where(eq(scimGroups.organizationId, organizationId))
    .orderBy(asc(scimGroups.displayNameNormalized));
  return { mappings, groups };
}
