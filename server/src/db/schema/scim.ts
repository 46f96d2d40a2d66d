import { boolean, index, int, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn, jsonColumn } from './columns';

/**
 * SCIM 2.0 provisioning of organizations (RFC 7643 / RFC 7644; docs/api.md, SCIM). No foreign
 * keys (docs/architecture.md, scale-out): every change of an organization's SCIM state writes
 * the organization's row first, and the decisions are unique indexes.
 */

/**
 * Bearer tokens an organization's identity provider calls `/scim/v2` with. The token itself
 * (`scim_…`, 256 random bits) is shown once; only its SHA-256 is kept.
 */
export const scimTokens = mysqlTable(
  'scim_tokens',
  {
    /** `sct_…` */
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').notNull(),
    name: varchar('name', { length: 100 }).notNull(),
    /** The token's first characters, for display (`scim_ab12…`). */
    prefix: varchar('prefix', { length: 16 }).notNull(),
    tokenHash: hashColumn('token_hash').notNull(),
    createdBy: idColumn('created_by').notNull(),
    createdAt: createdAt(),
    /** Written at most once a minute per token. */
    lastUsedAt: instantColumn('last_used_at'),
    revokedAt: instantColumn('revoked_at'),
  },
  (table) => [
    // Every SCIM request: the token by its hash.
    uniqueIndex('scim_tokens_hash_uq').on(table.tokenHash),
    // sso.scim.listTokens, and the cap on live tokens at creation.
    index('scim_tokens_org_idx').on(table.organizationId),
  ],
);

/** The SCIM name and other attributes a User resource carries besides its core ones, as the provider sent them. */
export interface ScimUserAttributes {
  name?: {
    givenName?: string;
    familyName?: string;
    formatted?: string;
    middleName?: string;
    honorificPrefix?: string;
    honorificSuffix?: string;
  };
  displayName?: string;
  nickName?: string;
  title?: string;
  preferredLanguage?: string;
  locale?: string;
  timezone?: string;
  emails?: Array<{ value: string; type?: string; primary?: boolean }>;
}

/** The SCIM identity of a provisioned member: one per (organization, account). */
export const scimUsers = mysqlTable(
  'scim_users',
  {
    /** `scu_…`: the resource's `id` (RFC 7643 §3.1), never reused. */
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').notNull(),
    userId: idColumn('user_id').notNull(),
    /** The provider's own id for it (RFC 7643 §3.1 `externalId`). */
    externalId: varchar('external_id', { length: 255 }),
    /** As sent: the account's address. */
    userName: varchar('user_name', { length: 254 }).notNull(),
    /** Lower-cased: userName is case-insensitive (RFC 7643 §4.1.1, `caseExact: false`). */
    userNameNormalized: varchar('user_name_normalized', { length: 254 }).notNull(),
    active: boolean('active').notNull(),
    /** True while this identity's deactivation holds the account disabled (reactivation lifts only that). */
    accountDisabled: boolean('account_disabled').notNull().default(false),
    attributes: jsonColumn<ScimUserAttributes>('attributes').notNull(),
    /** `meta.version`: moves on every change (RFC 7644 §3.14 weak ETag). */
    version: int('version').notNull(),
    createdAt: createdAt(),
    updatedAt: instantColumn('updated_at').notNull(),
  },
  (table) => [
    // One SCIM identity per member; the group and deactivation flows find it by account.
    uniqueIndex('scim_users_org_user_uq').on(table.organizationId, table.userId),
    // POST /Users: a second resource with the same userName is 409 `uniqueness`; `filter=userName eq`.
    uniqueIndex('scim_users_org_user_name_uq').on(table.organizationId, table.userNameNormalized),
    // `filter=externalId eq`.
    index('scim_users_org_external_idx').on(table.organizationId, table.externalId),
  ],
);

/** Groups an organization's provider pushes; their membership decides the members' roles through `scim_role_mappings`. */
export const scimGroups = mysqlTable(
  'scim_groups',
  {
    /** `scg_…` */
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').notNull(),
    displayName: varchar('display_name', { length: 255 }).notNull(),
    displayNameNormalized: varchar('display_name_normalized', { length: 255 }).notNull(),
    externalId: varchar('external_id', { length: 255 }),
    version: int('version').notNull(),
    createdAt: createdAt(),
    updatedAt: instantColumn('updated_at').notNull(),
  },
  (table) => [
    // POST /Groups: one group per name in an organization (409 `uniqueness`); `filter=displayName eq`; the role mapping's join.
    uniqueIndex('scim_groups_org_name_uq').on(table.organizationId, table.displayNameNormalized),
  ],
);

/** A SCIM user's place in a group. */
export const scimGroupMembers = mysqlTable(
  'scim_group_members',
  {
    groupId: idColumn('group_id').notNull(),
    scimUserId: idColumn('scim_user_id').notNull(),
    organizationId: idColumn('organization_id').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    // A group's members (GET /Groups, PATCH members).
    primaryKey({ name: 'scim_group_members_pk', columns: [table.groupId, table.scimUserId] }),
    // A user's groups: the role they give, and their removal with the user.
    index('scim_group_members_user_idx').on(table.scimUserId),
  ],
);

/**
 * The organization role a group's members get (`sso.scim.mapGroup`), by the group's name, so
 * it may be set before the provider pushes the group. The owner's role never follows a group.
 */
export const scimRoleMappings = mysqlTable(
  'scim_role_mappings',
  {
    organizationId: idColumn('organization_id').notNull(),
    displayName: varchar('display_name', { length: 255 }).notNull(),
    displayNameNormalized: varchar('display_name_normalized', { length: 255 }).notNull(),
    role: varchar('role', { length: 16 }).$type<'admin' | 'member'>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    // sso.scim.mapGroup / listGroupRoles, and the role of a member's groups.
    primaryKey({ name: 'scim_role_mappings_pk', columns: [table.organizationId, table.displayNameNormalized] }),
  ],
);

export type ScimTokenRow = typeof scimTokens.$inferSelect;
export type ScimUserRow = typeof scimUsers.$inferSelect;
export type ScimGroupRow = typeof scimGroups.$inferSelect;
