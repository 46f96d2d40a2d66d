import { mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { instantColumn } from './columns';

/**
 * Named locks shared by every instance, as rows: a transaction that updates a lock's row holds
 * it until it ends. `GET_LOCK` would not do: it lives in one server's memory (a multi-primary
 * cluster does not replicate it), while a row write is replicated and conflicts like any other
 * (docs/architecture.md, scale-out).
 */
export const serviceLocks = mysqlTable('service_locks', {
  name: varchar('name', { length: 64 }).primaryKey(),
  /** When the lock was last taken (the write that takes it). */
  takenAt: instantColumn('taken_at').notNull(),
});
