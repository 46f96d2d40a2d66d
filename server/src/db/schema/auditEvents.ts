import { index, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, idColumn, jsonColumn } from './columns';

/** Security-relevant events, written in the same transaction as the change they record. */
export const auditEvents = mysqlTable(
  'audit_events',
  {
    id: idColumn('id').primaryKey(),
    type: varchar('type', { length: 64 }).notNull(),
    userId: idColumn('user_id'),
    /** Who acted, when not the user themselves (an admin). */
    actorId: idColumn('actor_id'),
    sessionId: idColumn('session_id'),
    ip: varchar('ip', { length: 45 }),
    userAgent: varchar('user_agent', { length: 512 }),
    data: jsonColumn<Record<string, unknown>>('data'),
    /** The organization an `org.*` event happened in. */
    organizationId: idColumn('organization_id'),
    createdAt: createdAt(),
  },
  (table) => [
    // A user's security history, newest first (auth.activity, the data export).
    index('audit_events_user_idx').on(table.userId, table.createdAt),
    // A session's history (reuse investigations).
    index('audit_events_session_idx').on(table.sessionId),
    // Retention, and admin.audit.query newest first (the primary key breaks ties).
    index('audit_events_created_at_idx').on(table.createdAt),
    // admin.audit.query by address.
    index('audit_events_ip_idx').on(table.ip, table.createdAt),
    // org.audit: an organization's events newest first, keyset on (created_at, id).
    index('audit_events_organization_idx').on(table.organizationId, table.createdAt, table.id),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
