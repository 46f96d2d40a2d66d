import { index, mysqlTable } from 'drizzle-orm/mysql-core';
import { hashColumn, instantColumn } from './columns';

/**
 * Bot-check solutions already redeemed: each works once, across every instance (docs/api.md,
 * bot check). Only a hash of the challenge is kept, until the challenge has expired.
 */
export const botCheckSolutions = mysqlTable(
  'bot_check_solutions',
  {
    // Redeeming is an INSERT; a duplicate key is a replay.
    challengeHash: hashColumn('challenge_hash').primaryKey(),
    expiresAt: instantColumn('expires_at').notNull(),
  },
  (table) => [index('bot_check_solutions_expires_idx').on(table.expiresAt)],
);
