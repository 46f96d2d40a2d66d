import { index, mysqlTable, primaryKey, text, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn } from './columns';

/**
 * Enterprise SSO connections: an organization's own OpenID Provider or SAML 2.0 identity
 * provider, configured through the API (docs/api.md, sso). An OpenID Connect client secret is
 * sealed (AES-256-GCM under a key derived from IAM_SECRET, bound to the connection id); it never
 * leaves the service. A SAML connection keeps only public material (the IdP's entity ID, its
 * SSO URL and signing certificates). No foreign keys (docs/architecture.md, scale-out).
 */
export const ssoConnections = mysqlTable(
  'sso_connections',
  {
    /** `ssc_…`; the connection signs in as provider `sso_<the same random part>`. */
    id: idColumn('id').primaryKey(),
    organizationId: idColumn('organization_id').notNull(),
    type: varchar('type', { length: 16 }).$type<'oidc' | 'saml'>().notNull(),
    /** OpenID Connect: the issuer identifier. SAML: the IdP's entity ID (the `Issuer` its assertions carry). */
    issuer: varchar('issuer', { length: 2048 }).notNull(),
    /** OpenID Connect only (null for SAML). */
    clientId: varchar('client_id', { length: 255 }),
    /** Null for a public client (token endpoint authentication `none`) and for SAML. */
    clientSecretSealed: varchar('client_secret_sealed', { length: 1024 }),
    /** Space-separated scope tokens (RFC 6749 §3.3), `openid` first; null for SAML. */
    scopes: varchar('scopes', { length: 1024 }),
    /** SAML: the IdP's SingleSignOnService URL (HTTP-Redirect binding). */
    samlSsoUrl: varchar('saml_sso_url', { length: 2048 }),
    /** SAML: the IdP's signing certificates, PEM, one after another (several during a rotation). */
    samlCertificates: text('saml_certificates'),
    /** SAML: the attribute that carries the address, when not a standard one. */
    samlEmailAttribute: varchar('saml_email_attribute', { length: 255 }),
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

/**
 * SAML assertions already accepted (SAML 2.0 Profiles §4.1.4.5: the SP must ensure a bearer
 * assertion is not used twice). The key is a hash of the connection id and the assertion's ID;
 * the insert is the decision, so a replay is refused on every instance and every cluster node
 * (a duplicate key). Rows go once `expires_at` (the assertion's NotOnOrAfter, capped) passed.
 */
export const samlAssertions = mysqlTable(
  'saml_assertions',
  {
    // The ACS: INSERT (duplicate key = replay).
    idHash: hashColumn('id_hash').primaryKey(),
    connectionId: idColumn('connection_id').notNull(),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
  },
  (table) => [
    // The retention sweep: DELETE … WHERE expires_at < ?.
    index('saml_assertions_expires_idx').on(table.expiresAt),
  ],
);

export type SsoConnectionRow = typeof ssoConnections.$inferSelect;
export type OrganizationDomainRow = typeof organizationDomains.$inferSelect;
export type SamlAssertionRow = typeof samlAssertions.$inferSelect;
