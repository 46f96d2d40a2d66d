import { bigint, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';

/**
 * The shared store of rate-limiter-flexible's MySQL limiter (its own column layout), so
 * every instance counts against the same numbers. Keys carry the limiter's prefix.
 */
export const rateLimits = mysqlTable('rate_limits', {
  // Every lookup is by key (the primary key); expiry clean-up scans rarely.
  key: varchar('key', { length: 255 }).primaryKey(),
  points: int('points').notNull().default(0),
  /** Unix milliseconds. */
  expire: bigint('expire', { mode: 'number', unsigned: true }),
});
