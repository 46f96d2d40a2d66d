import { sql } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { serviceLocks } from '../../db/tables';

export type ServiceLockName = 'signing_keys';

/**
 * Takes a named lock for the rest of the transaction, on every instance: the lock's row is
 * written (created on first use), so a second taker waits on the row lock, and on a
 * multi-primary cluster the second commit fails certification and is retried whole
 * (`runTransaction`). Call it first in the transaction, before reading what
 * the lock guards.
 */
export async function takeServiceLock(tx: Transaction, name: ServiceLockName, now: Date): Promise<void> {
  await tx
    .insert(serviceLocks)
    .values({ name, takenAt: now })
    .onDuplicateKeyUpdate({ set: { takenAt: sql`values(${serviceLocks.takenAt})` } });
}
