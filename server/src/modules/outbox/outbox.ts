import type { EmailMessage } from '@iam/emails';
import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import type { Logger } from 'pino';
import superjson, { type SuperJSONResult } from 'superjson';
import { type Database, type Executor, runTransaction } from '../../db/client';
import { type OutboxMessageRow, outboxMessages } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import { newId } from '../crypto/ids';
import type { Mailer } from '../email/mailer';

/**
 * The durable outbox (docs/architecture.md, durable outbox): a message is a row written in the
 * transaction of the change it reports, so it exists exactly when the change does; a worker on
 * every instance delivers due rows, claimed with SELECT … FOR UPDATE SKIP LOCKED so two
 * instances never take the same row, with backoff on failure, across restarts. The row id is
 * the provider's `Idempotency-Key`: a delivery retried after a lost answer is sent once.
 * Codes a user is waiting for never come here: they are sent on the request path, where a
 * failure is an error the user sees.
 */

export interface OutboxMail {
  to: string;
  email: EmailMessage;
}

/** First retries within a minute, then spaced out to an hour (5 s, 10 s, 20 s … 1 h). */
export function retryDelayInSeconds(attempts: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, attempts - 1));
}

/** A message is given up after this long undelivered: past every provider outage worth waiting for. */
export const outboxGiveUpAfterSeconds = 3 * 24 * 3600;
/** How long a worker holds a claimed row before another may try it (longer than any send may take). */
const claimInSeconds = 60;

/** Queues a mail in the caller's transaction; it is delivered once that transaction commits. */
export async function enqueueMail(executor: Executor, mail: OutboxMail & { userId: string | null }, now: Date): Promise<string> {
  const id = newId('outboxMessage');
  await executor.insert(outboxMessages).values({
    id,
    kind: 'mail',
    userId: mail.userId,
    // superjson keeps what JSON would flatten (the Dates in template props).
    payload: superjson.serialize({ to: mail.to, email: mail.email }) as unknown as Record<string, unknown>,
    state: 'pending',
    attempts: 0,
    createdAt: now,
    availableAt: now,
  });
  return id;
}

export interface OutboxWorker {
  start(): void;
  /** Delivers what is due now, once; resolves with how many messages were delivered. */
  runOnce(): Promise<number>;
  /** Asks for a run soon (after a message was queued). */
  nudge(): void;
  stop(): Promise<void>;
}

export function createOutboxWorker(deps: {
  db: Database;
  clock: Clock;
  mailer: Mailer;
  logger: Pick<Logger, 'warn' | 'error'>;
  pollIntervalInMs?: number;
  batchSize?: number;
  onDelivered?: () => void;
  onFailedAttempt?: () => void;
}): OutboxWorker {
  const pollIntervalInMs = deps.pollIntervalInMs ?? 1000;
  const batchSize = deps.batchSize ?? 20;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = false;

  /** Takes due rows no other worker holds and pushes their next try past the claim, in one short transaction. */
  async function claim(now: Date): Promise<OutboxMessageRow[]> {
    return runTransaction(deps.db, async (tx) => {
      const rows = await tx
        .select()
        .from(outboxMessages)
        .where(and(eq(outboxMessages.state, 'pending'), lte(outboxMessages.availableAt, now)))
        .orderBy(asc(outboxMessages.availableAt))
        .limit(batchSize)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return [];
      await tx
        .update(outboxMessages)
        .set({ availableAt: addSeconds(now, claimInSeconds) })
        .where(
          inArray(
            outboxMessages.id,
            rows.map((row) => row.id),
          ),
        );
      return rows;
    });
  }

  async function deliver(row: OutboxMessageRow): Promise<boolean> {
    const attempts = row.attempts + 1;
    try {
      const payload = superjson.deserialize<OutboxMail>(row.payload as unknown as SuperJSONResult);
      await deps.mailer.send({ to: payload.to, email: payload.email }, { idempotencyKey: row.id });
      await deps.db
        .update(outboxMessages)
        // The body goes once delivered: links in it (reset, "not me") must not rest in the table.
        .set({
          state: 'delivered',
          attempts,
          deliveredAt: deps.clock.now(),
          lastError: null,
          payload: { template: payload.email.template },
        })
        .where(eq(outboxMessages.id, row.id));
      deps.onDelivered?.();
      return true;
    } catch (error) {
      deps.onFailedAttempt?.();
      const now = deps.clock.now();
      const givingUp = addSeconds(row.createdAt, outboxGiveUpAfterSeconds) <= now;
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'unknown error';
      if (givingUp) deps.logger.error({ outboxId: row.id, attempts }, 'outbox message given up');
      else deps.logger.warn({ outboxId: row.id, attempts, reason }, 'outbox delivery failed; retrying later');
      await deps.db
        .update(outboxMessages)
        .set({
          state: givingUp ? 'failed' : 'pending',
          attempts,
          availableAt: addSeconds(now, retryDelayInSeconds(attempts)),
          lastError: reason.slice(0, 512),
        })
        .where(eq(outboxMessages.id, row.id));
      return false;
    }
  }

  async function drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = await claim(deps.clock.now());
      for (const row of rows) if (await deliver(row)) delivered++;
      if (rows.length < batchSize || stopped) return delivered;
    }
  }

  function runOnce(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = drain()
      .catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'outbox run failed');
        return 0;
      })
      .finally(() => {
        running = null;
        if (again && !stopped) {
          again = false;
          void runOnce();
        }
      });
    return running;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => void runOnce(), pollIntervalInMs).unref();
    },
    runOnce,
    nudge() {
      if (!stopped) setImmediate(() => void runOnce());
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
