import { index, mysqlTable, primaryKey, text, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn } from './columns';

/**
 * Provider identities linked to users: keyed by (provider, subject), the only stable
 * identifier a provider gives (OpenID Connect Core §5.7: `sub` is unique per issuer and never
 * reassigned; an email address is neither). At most one identity per provider per user.
 */
export const oauthAccounts = mysqlTable(
  'oauth_accounts',
  {
    // oauth.callback: find the user of a provider identity.
    provider: varchar('provider', { length: 32 }).notNull(),
    subject: varchar('subject', { length: 255 }).notNull(),
    userId: idColumn('user_id').notNull(),
    /** The address the provider gave at the last sign-in, for `oauth.accounts` (never a lookup key). */
    email: varchar('email', { length: 254 }),
    createdAt: createdAt(),
    lastUsedAt: instantColumn('last_used_at'),
  },
  (table) => [
    primaryKey({ name: 'oauth_accounts_pk', columns: [table.provider, table.subject] }),
    // oauth.accounts and oauth.unlink (WHERE user_id = ?, its prefix), and one identity per provider per user.
    uniqueIndex('oauth_accounts_user_provider_uq').on(table.userId, table.provider),
  ],
);

/**
 * Authorization requests in flight (RFC 9700 §2.1, §4.7: `state` bound to the browser that
 * started the flow, single use; RFC 7636: the PKCE verifier kept server-side). Only the
 * SHA-256 of the state is stored; the verifier is sealed under a key derived from the state
 * itself, so a copy of the table alone cannot redeem an intercepted code.
 */
export const oauthStates = mysqlTable(
  'oauth_states',
  {
    // oauth.callback: UPDATE … WHERE state_hash = ? AND used_at IS NULL AND … (single use).
    stateHash: hashColumn('state_hash').primaryKey(),
    provider: varchar('provider', { length: 32 }).notNull(),
    codeVerifierSealed: varchar('code_verifier_sealed', { length: 255 }).notNull(),
    /** OpenID Connect Core §3.1.2.1: the ID token must carry it back; null for plain OAuth 2. */
    nonce: varchar('nonce', { length: 64 }),
    returnTo: varchar('return_to', { length: 2048 }),
    /** SHA-256 of the device canary (`iam_cid`) of the browser that started the flow. */
    canaryHash: hashColumn('canary_hash'),
    /**
     * SAML: the verified profile the IdP's POST to the ACS gave, sealed under a key derived from
     * the state, until the browser's own GET (which carries the canary) spends the state.
     */
    samlProfileSealed: text('saml_profile_sealed'),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    usedAt: instantColumn('used_at'),
  },
  (table) => [
    // The sweep: DELETE … WHERE expires_at < ?.
    index('oauth_states_expires_idx').on(table.expiresAt),
  ],
);

/**
 * `link_required` proofs: a provider identity waiting for the owner of an account to sign in
 * and attach it (`oauth.link`). Single use, short-lived, bound to the browser that met the
 * provider and, when the address belongs to an account, to that account. Only the SHA-256 of
 * the token is kept.
 */
export const oauthLinkTokens = mysqlTable(
  'oauth_link_tokens',
  {
    // oauth.link: UPDATE … WHERE token_hash = ? AND used_at IS NULL AND … (single use).
    tokenHash: hashColumn('token_hash').primaryKey(),
    provider: varchar('provider', { length: 32 }).notNull(),
    subject: varchar('subject', { length: 255 }).notNull(),
    email: varchar('email', { length: 254 }),
    /** The account the identity may join; null when the address belongs to none. */
    userId: idColumn('user_id'),
    canaryHash: hashColumn('canary_hash'),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    usedAt: instantColumn('used_at'),
  },
  (table) => [
    // The sweep: DELETE … WHERE expires_at < ?.
    index('oauth_link_tokens_expires_idx').on(table.expiresAt),
  ],
);

export type OAuthAccountRow = typeof oauthAccounts.$inferSelect;
export type OAuthStateRow = typeof oauthStates.$inferSelect;
export type OAuthLinkTokenRow = typeof oauthLinkTokens.$inferSelect;
