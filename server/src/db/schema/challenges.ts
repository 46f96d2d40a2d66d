import { index, mysqlTable, tinyint, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn, jsonColumn } from './columns';

/**
 * A pending proof: an emailed or TOTP code for one purpose. Only a keyed hash of the code
 * is kept; attempts and resends are counted here so every instance enforces the budget.
 */
export const challenges = mysqlTable(
  'challenges',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id').notNull(),
    purpose: varchar('purpose', { length: 32 }).notNull(),
    codeHash: hashColumn('code_hash').notNull(),
    attempts: tinyint('attempts').notNull(),
    resends: tinyint('resends').notNull(),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    consumedAt: instantColumn('consumed_at'),
    /** When the current code was sent, for the spacing of resends. */
    lastSentAt: instantColumn('last_sent_at'),
    /** Purpose-specific state, e.g. the password hash a sign-up will set once verified. */
    data: jsonColumn<Record<string, unknown>>('data'),
  },
  (table) => [
    // Clean-up and "latest challenge of this user for this purpose".
    index('challenges_user_purpose_idx').on(table.userId, table.purpose),
    // Retention: dead challenges.
    index('challenges_expires_at_idx').on(table.expiresAt),
  ],
);

/** Single-use emailed links (verification, magic link, reset). Only the token hash is kept. */
export const links = mysqlTable(
  'links',
  {
    id: idColumn('id').primaryKey(),
    tokenHash: hashColumn('token_hash').notNull(),
    purpose: varchar('purpose', { length: 32 }).notNull(),
    userId: idColumn('user_id').notNull(),
    challengeId: idColumn('challenge_id'),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    usedAt: instantColumn('used_at'),
    data: jsonColumn<Record<string, unknown>>('data'),
  },
  (table) => [
    // Consuming a link: by the hash of the token in its URL.
    uniqueIndex('links_token_hash_uq').on(table.tokenHash),
    // Invalidating a user's outstanding links of one purpose.
    index('links_user_purpose_idx').on(table.userId, table.purpose),
    // A challenge's links, retired when its code is used or resent (without it, that
    // UPDATE would lock every row of the table).
    index('links_challenge_idx').on(table.challengeId),
    // Retention: expired links.
    index('links_expires_at_idx').on(table.expiresAt),
  ],
);

export type ChallengeRow = typeof challenges.$inferSelect;
export type LinkRow = typeof links.$inferSelect;
