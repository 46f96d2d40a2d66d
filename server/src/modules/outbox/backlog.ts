import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { outboxMessages } from '../../db/tables';
import type { OutboxKind } from './outbox';

/** The messages of one kind still waiting for delivery. */
export interface OutboxBacklog {
  kind: OutboxKind;
  pending: number;
  /** When the oldest of them was written (every message is due from then on), or null when none waits. */
  oldestCreatedAt: Date | null;
}

const kinds: readonly OutboxKind[] = ['mail', 'webhook'];

/**
 * What the outbox still has to deliver, per kind: how many messages, and since when the oldest
 * has waited. A message is due from the moment it is written; `available_at` later moves only for
 * a worker's claim or a retry's backoff, so a message waiting out its retry still counts. One
 * query over the pending rows only, found through `outbox_messages_state_available_idx` (the
 * delivered rows, the bulk of the table, are never read). Every kind is answered, with 0 when
 * none waits.
 */
export async function outboxBacklog(executor: Executor): Promise<OutboxBacklog[]> {
  const rows = await executor
    .select({
      kind: outboxMessages.kind,
      pending: sql<number>`count(*)`.mapWith(Number),
      oldestCreatedAt: sql<Date>`min(${outboxMessages.createdAt})`.mapWith(outboxMessages.createdAt),
    })
    .from(outboxMessages)
    .where(eq(outboxMessages.state, 'pending'))
    .groupBy(outboxMessages.kind);
  return kinds.map((kind) => {
    const row = rows.find((candidate) => candidate.kind === kind);
    return { kind, pending: row?.pending ?? 0, oldestCreatedAt: row?.oldestCreatedAt ?? null };
  });
}
