import { index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, idColumn, instantColumn, jsonColumn } from './columns';

/**
 * The durable outbox: what must reach the outside world after a change (security mails and
 * notices), written in the change's own transaction and delivered by a worker with retries, so a
 * provider outage delays a message and never loses it. The row id is the provider's
 * idempotency key, so a delivery retried after a lost answer is sent once.
 */
export const outboxMessages = mysqlTable(
  'outbox_messages',
  {
    id: idColumn('id').primaryKey(),
    /** `mail` or `webhook`. */
    kind: varchar('kind', { length: 16 }).notNull(),
    /**
     * Messages of one key are delivered in order, each after the one before it (a webhook
     * endpoint and a user: `<endpoint>:<userId>`); null for messages that need no order.
     */
    orderingKey: varchar('ordering_key', { length: 120 }),
    userId: idColumn('user_id'),
    /** What to deliver: for a mail, the recipient and the template with its props. */
    payload: jsonColumn<Record<string, unknown>>('payload').notNull(),
    /** `pending` until delivered, or `failed` once the retry budget is spent. */
    state: varchar('state', { length: 16 }).notNull(),
    attempts: int('attempts').notNull(),
    createdAt: createdAt(),
    /** Not before this instant: the next try, or the end of a worker's claim on the row. */
    availableAt: instantColumn('available_at').notNull(),
    deliveredAt: instantColumn('delivered_at'),
    /** Why the last try failed (no secrets: the error's name and status). */
    lastError: varchar('last_error', { length: 512 }),
  },
  (table) => [
    // The worker's claim: pending rows that are due, oldest first, under SELECT … FOR UPDATE SKIP LOCKED.
    index('outbox_messages_state_available_idx').on(table.state, table.availableAt),
    // Retention and "a user's messages".
    index('outbox_messages_user_idx').on(table.userId),
    // "Is an older message of this key still pending?"
    index('outbox_messages_ordering_idx').on(table.orderingKey, table.createdAt),
  ],
);

export type OutboxMessageRow = typeof outboxMessages.$inferSelect;
