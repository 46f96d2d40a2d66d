import { index, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn, jsonColumn } from './columns';

/**
 * API keys users create for their own scripts. The key itself (`iam_…`, 256 random bits) is
 * shown once; only its SHA-256 is kept, with a short prefix to recognise it by.
 */
export const apiKeys = mysqlTable(
  'api_keys',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id').notNull(),
    name: varchar('name', { length: 100 }).notNull(),
    /** The key's first characters, for display (`iam_ab12…`). */
    prefix: varchar('prefix', { length: 16 }).notNull(),
    keyHash: hashColumn('key_hash').notNull(),
    scopes: jsonColumn<string[]>('scopes').notNull(),
    createdAt: createdAt(),
    /** Written at most once a minute per key. */
    lastUsedAt: instantColumn('last_used_at'),
    expiresAt: instantColumn('expires_at'),
    revokedAt: instantColumn('revoked_at'),
  },
  (table) => [
    // Verification: by the key's hash.
    uniqueIndex('api_keys_hash_uq').on(table.keyHash),
    // apiKeys.list, and a user's keys on deletion.
    index('api_keys_user_idx').on(table.userId),
    // Retention: keys revoked or expired long ago.
    index('api_keys_revoked_idx').on(table.revokedAt),
    index('api_keys_expires_idx').on(table.expiresAt),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
