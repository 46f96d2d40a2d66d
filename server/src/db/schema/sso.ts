import { index, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, idColumn, instantColumn } from './columns';

/**
 * Enterprise SSO connections: an organization's own OpenID Provider, configured through the
 * API (docs/api.md, sso). The client secret is sealed (AES-256-GCM under a key derived from
 * IAM_SECRET, bound to the connection id); it never leaves the service. No foreign keys
 * (docs/architecture.md, scale-out).
 */
export const ssoConnections = mysqlTable(
  'sso_connections',
  {
    /** `ssc_…`; the connection signs in as provider `sso_<the same random part>`. */
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').notNull(),
    type: varchar('type', { length: 16 }).$type<'oidc'>().notNull(),
    issuer: varchar('issuer', { length: 2048 }).notNull(),
    clientId: varchar('client_id', { length: 255 }).notNull(),
    /** Null for a public client (token endpoint authentication `none`). */
    clientSecretSealed: varchar('client_secret_sealed', { length: 1024 }),
    /** Space-separated scope tokens (RFC 6749 §3.3), `openid` first. */
    scopes: varchar('scopes', { length: 1024 }).notNull(),
    createdAt: createdAt(),
    /** Written by every change: the registry's cached provider is rebuilt when it moves (every instance). */
    updatedAt: instantColumn('updated_at').notNull(),
  },
  (table) => [
    // sso.connections.list, sso.discover and sso.authorize: an organization's connections.
    index('sso_connections_org_idx').on(table.organizationId),
  ],
);

/**
 * Email domains an organization claims. `verified_domain` is the domain once its TXT record
 * was found, null before: its unique index lets exactly one organization hold a verified
 * domain, decided by the write itself, also between two cluster nodes (a decision is a write).
 */
export const organizationDomains = mysqlTable(
  'organization_domains',
  {
    organizationId: idColumn('organization_id').notNull(),
    /** Lower-case ASCII (IDNA) form. */
    domain: varchar('domain', { length: 253 }).notNull(),
    /** The value the `_iam-challenge.<domain>` TXT record must carry. */
    txtValue: varchar('txt_value', { length: 128 }).notNull(),
    createdAt: createdAt(),
    verifiedAt: instantColumn('verified_at'),
    verifiedDomain: varchar('verified_domain', { length: 253 }),
  },
  (table) => [
    primaryKey({ name: 'organization_domains_pk', columns: [table.organizationId, table.domain] }),
    // sso.domains.verify: one organization per verified domain; sso.discover and JIT: the organization of an address's domain.
    uniqueIndex('organization_domains_verified_uq').on(table.verifiedDomain),
  ],
);

export type SsoConnectionRow = typeof ssoConnections.$inferSelect;
export type OrganizationDomainRow = typeof organizationDomains.$inferSelect;
