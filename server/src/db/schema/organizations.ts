import { boolean, index, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, idColumn, instantColumn } from './columns';

/**
 * Organizations group users, each with one role in it: `owner` (exactly one), `admin`, `member`.
 * No foreign keys (docs/architecture.md, scale-out): a membership change writes the
 * organization's row (`updated_at`), so two changes of one organization made at once on two
 * cluster nodes conflict at certification instead of both passing their checks.
 */
export const organizations = mysqlTable(
  'organizations',
  {
    id: idColumn('id').primaryKey(),
    name: varchar('name', { length: 100 }).notNull(),
    slug: varchar('slug', { length: 48 }).notNull(),
    /** org.update `requireSso`: members at a verified domain sign in only through the organization's SSO connection. */
    requireSso: boolean('require_sso').notNull().default(false),
    createdAt: createdAt(),
    /** Written by every change of the organization, its members and its invitations (the row the change orders on). */
    updatedAt: instantColumn('updated_at').notNull(),
  },
  (table) => [
    // org.create and org.update: one organization per slug (ORG_SLUG_TAKEN).
    uniqueIndex('organizations_slug_uq').on(table.slug),
  ],
);

/** One row per (organization, user): the user's role there. */
export const organizationMembers = mysqlTable(
  'organization_members',
  {
    organizationId: idColumn('organization_id').notNull(),
    userId: idColumn('user_id').notNull(),
    role: varchar('role', { length: 16 }).$type<'owner' | 'admin' | 'member'>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    // The primary key serves org.get (an organization's members), every role check, bff.authorize's
    // read and the refresh's join (organization, user).
    primaryKey({ name: 'organization_members_pk', columns: [table.organizationId, table.userId] }),
    // org.list: the caller's organizations.
    index('organization_members_user_idx').on(table.userId),
  ],
);

/**
 * An invitation mailed to an address. Its single-use link (purpose `org_invitation`) names the
 * invitation as the link's `user_id`, so the links component retires it by (user_id, purpose)
 * when the invitation is replaced or revoked.
 */
export const organizationInvitations = mysqlTable(
  'organization_invitations',
  {
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').notNull(),
    /** As typed, for the mail and the list. */
    email: varchar('email', { length: 254 }).notNull(),
    emailNormalized: varchar('email_normalized', { length: 254 }).notNull(),
    role: varchar('role', { length: 16 }).$type<'admin' | 'member'>().notNull(),
    invitedBy: idColumn('invited_by').notNull(),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    acceptedAt: instantColumn('accepted_at'),
    revokedAt: instantColumn('revoked_at'),
  },
  (table) => [
    // org.invitations.list (an organization's pending invitations) and org.invite (the live
    // invitation to the same address, replaced).
    index('organization_invitations_org_email_idx').on(table.organizationId, table.emailNormalized),
  ],
);

export type OrganizationRow = typeof organizations.$inferSelect;
export type OrganizationMemberRow = typeof organizationMembers.$inferSelect;
export type OrganizationInvitationRow = typeof organizationInvitations.$inferSelect;
