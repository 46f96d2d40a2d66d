import { bigint, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';

/**
 * The shared counters of the rate limits (modules/rateLimit/mysqlStore.ts), so every instance
 * counts against the same numbers. The column layout is rate-limiter-flexible's MySQL one,
 * which earlier versions wrote through that library: its rows stay valid. Keys are
 * `<limit>:<hash of the limited key>`.
 */
export const rateLimits = mysqlTable('rate_limits', {
  // Every lookup is by key (the primary key); expiry clean-up scans rarely.
  key: varchar('key', { length: 255 }).primaryKey(),
  points: int('points').notNull().default(0),
  /** Unix milliseconds. */
  expire: bigint('expire', { mode: 'number', unsigned: true }),
});
