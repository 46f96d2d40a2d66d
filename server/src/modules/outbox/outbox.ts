import { randomBytes } from 'node:crypto';
import type { EmailMessage } from '@iam/emails';
import { idPrefixes } from '@iam/shared';
import { and, asc, eq, inArray, lt, lte, notExists, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/mysql-core';
import type { Logger } from 'pino';
import superjson, { type SuperJSONResult } from 'superjson';
import { type Database, type Executor, runTransaction } from '../../db/client';
import { type OutboxMessageRow, outboxMessages } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import { newId } from '../crypto/ids';
import type { Mailer } from '../email/mailer';
import { withSpan } from '../telemetry/tracing';

/**
 * The durable outbox (docs/architecture.md, durable outbox): a message is a row written in the
 * transaction of the change it reports, so it exists exactly when the change does; a worker on
 * every instance delivers due rows, claimed with SELECT … FOR UPDATE SKIP LOCKED so two
 * instances never take the same row, with backoff on failure, across restarts. The row id is
 * the provider's `Idempotency-Key`: a delivery retried after a lost answer is sent once.
 * Codes a user is waiting for never come here: they are sent on the request path, where a
 * failure is an error the user sees.
 *
 * Two kinds of message: `mail` (to the mail provider) and `webhook` (a security event POSTed
 * to a receiver, docs/api.md webhooks; the row id is its `webhook-id`). Messages that share an
 * `ordering_key` (a webhook endpoint and a user) go out one after the other: a row is not
 * claimed while an older one of its key is still pending. Each kind is claimed and delivered on
 * its own, so a receiver that hangs never holds up mail.
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

/** What a webhook row holds until it is delivered: the endpoint's id (never its secret) and the event. */
export interface OutboxWebhook {
  endpoint: string;
  type: string;
  /** When the event happened (ISO 8601): the body's `timestamp`. */
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * Queues one security event for each endpoint that takes it, in the caller's transaction, each
 * row under the ordering key `<endpoint>:<userId>` so one user's events reach an endpoint in
 * order. Row ids sort in the order they were made, so the events of one transaction (which
 * share `created_at`) keep theirs too. Returns the rows' ids (their `webhook-id`s).
 */
export async function enqueueWebhook(
  executor: Executor,
  message: { endpointIds: readonly string[]; userId: string; type: string; data: Record<string, unknown> },
  now: Date,
): Promise<string[]> {
  if (message.endpointIds.length === 0) return [];
  const rows = message.endpointIds.map((endpoint) => {
    const payload: OutboxWebhook = { endpoint, type: message.type, timestamp: now.toISOString(), data: message.data };
    return {
      id: sortableOutboxId(now),
      kind: 'webhook',
      orderingKey: `${endpoint}:${message.userId}`,
      userId: message.userId,
      payload: payload as unknown as Record<string, unknown>,
      state: 'pending',
      attempts: 0,
      createdAt: now,
      availableAt: now,
    };
  });
  await executor.insert(outboxMessages).values(rows);
  return rows.map((row) => row.id);
}

/** Crockford's base32 in lowercase: its characters sort in the order of their values. */
const sortableAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';
let lastIdTime = 0;
let lastIdRandom = 0n;

function encodeSortable(value: bigint, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    text = sortableAlphabet[Number(value & 31n)] + text;
    value >>= 5n;
  }
  return text;
}

/**
 * An outbox id that sorts after every one this process made before (ULID-like: 50 bits of
 * milliseconds, then 80 bits, random or, within one millisecond or a clock that went back, the
 * last plus one), so rows of one transaction keep the order they were written in.
 */
export function sortableOutboxId(now: Date): string {
  const time = now.getTime();
  if (time > lastIdTime) {
    lastIdTime = time;
    // The top bit left clear, so the increments never overflow.
    lastIdRandom = BigInt(`0x${randomBytes(10).toString('hex')}`) >> 1n;
  } else {
    lastIdRandom += 1n;
  }
  return `${idPrefixes.outboxMessage}_${encodeSortable(BigInt(lastIdTime), 10)}${encodeSortable(lastIdRandom, 16)}`;
}

/** Delivers one webhook row; throws when it was not accepted (the worker retries it). */
export type WebhookSender = (message: { id: string; payload: OutboxWebhook }) => Promise<void>;

export type OutboxKind = 'mail' | 'webhook';

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
  /** Delivers `webhook` rows (modules/webhooks); without it they wait, as for an endpoint no longer configured. */
  sendWebhook?: WebhookSender;
  logger: Pick<Logger, 'warn' | 'error'>;
  pollIntervalInMs?: number;
  batchSize?: number;
  onDelivered?: (kind: OutboxKind) => void;
  onFailedAttempt?: (kind: OutboxKind) => void;
}): OutboxWorker {
  const pollIntervalInMs = deps.pollIntervalInMs ?? 1000;
  const batchSize = deps.batchSize ?? 20;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /**
   * No older row of the same ordering key is still pending (read without a lock; a row being
   * delivered right now is pending, so its successor waits). Rows without a key never wait.
   */
  const older = alias(outboxMessages, 'older');
  const noOlderPending = notExists(
    deps.db
      .select({ one: sql`1` })
      .from(older)
      .where(
        and(
          eq(older.orderingKey, outboxMessages.orderingKey),
          eq(older.state, 'pending'),
          or(
            lt(older.createdAt, outboxMessages.createdAt),
            and(eq(older.createdAt, outboxMessages.createdAt), lt(older.id, outboxMessages.id)),
          ),
        ),
      ),
  );

  /**
   * Takes due rows of a kind that no other worker holds and pushes their next try past the
   * claim, in one short transaction. A webhook row waits while an older row of its ordering key
   * is pending, so a batch holds at most one row of each key.
   */
  async function claim(kind: OutboxKind, now: Date): Promise<OutboxMessageRow[]> {
    return runTransaction(deps.db, async (tx) => {
      const rows = await tx
        .select()
        .from(outboxMessages)
        .where(
          and(
            eq(outboxMessages.state, 'pending'),
            lte(outboxMessages.availableAt, now),
            eq(outboxMessages.kind, kind),
            kind === 'webhook' ? noOlderPending : undefined,
          ),
        )
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

  /** Sends one row; answers what of it stays in the table once delivered. */
  async function send(row: OutboxMessageRow): Promise<Record<string, unknown>> {
    if (row.kind === 'webhook') {
      if (!deps.sendWebhook) throw new Error('webhooks are not configured');
      const payload = row.payload as unknown as OutboxWebhook;
      await deps.sendWebhook({ id: row.id, payload });
      return { endpoint: payload.endpoint, type: payload.type };
    }
    const payload = superjson.deserialize<OutboxMail>(row.payload as unknown as SuperJSONResult);
    await deps.mailer.send({ to: payload.to, email: payload.email }, { idempotencyKey: row.id });
    return { template: payload.email.template };
  }

  /** One try at one row, in a span of its own (the root of its trace: the worker runs outside any request). */
  function deliver(row: OutboxMessageRow): Promise<boolean> {
    const kind: OutboxKind = row.kind === 'webhook' ? 'webhook' : 'mail';
    return withSpan(
      'outbox.deliver',
      async (span) => {
        const delivered = await deliverNow(row, kind);
        span.setAttribute('iam.outbox.outcome', delivered ? 'delivered' : 'failed');
        return delivered;
      },
      { attributes: { 'iam.outbox.kind': kind, 'iam.outbox.attempt': row.attempts + 1 } },
    );
  }

  async function deliverNow(row: OutboxMessageRow, kind: OutboxKind): Promise<boolean> {
    const attempts = row.attempts + 1;
    try {
      const kept = await send(row);
      await deps.db
        .update(outboxMessages)
        // The body goes once delivered: links in a mail (reset, "not me") and the data of an
        // event (an address) must not rest in the table.
        .set({
          state: 'delivered',
          attempts,
          deliveredAt: deps.clock.now(),
          lastError: null,
          payload: kept,
        })
        .where(eq(outboxMessages.id, row.id));
      deps.onDelivered?.(kind);
      return true;
    } catch (error) {
      deps.onFailedAttempt?.(kind);
      const now = deps.clock.now();
      const givingUp = addSeconds(row.createdAt, outboxGiveUpAfterSeconds) <= now;
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'unknown error';
      if (givingUp) deps.logger.error({ outboxId: row.id, kind, attempts, reason }, 'outbox message given up');
      else deps.logger.warn({ outboxId: row.id, kind, attempts, reason }, 'outbox delivery failed; retrying later');
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

  async function drainMail(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = await claim('mail', deps.clock.now());
      for (const row of rows) if (await deliver(row)) delivered++;
      if (rows.length < batchSize || stopped) return delivered;
    }
  }

  /**
   * Webhook rows of a batch have distinct ordering keys, so they go out together; a delivered
   * row lets the next of its key be claimed, so the drain goes on while rows are delivered.
   */
  async function drainWebhooks(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const rows = await claim('webhook', deps.clock.now());
      const results = await Promise.all(rows.map(deliver));
      const count = results.filter(Boolean).length;
      delivered += count;
      if (stopped || rows.length === 0 || (rows.length < batchSize && count === 0)) return delivered;
    }
  }

  /**
   * One kind's runs, one at a time: a call during a run gets that run and asks for another
   * after it. Each kind runs on its own, so a slow receiver never delays mail, nor mail a receiver.
   */
  function runner(drain: () => Promise<number>) {
    let running: Promise<number> | null = null;
    let again = false;
    const run = (): Promise<number> => {
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
            void run();
          }
        });
      return running;
    };
    return { run, settled: () => running ?? Promise.resolve(0) };
  }
  const runners = [runner(drainMail), runner(drainWebhooks)];

  async function runOnce(): Promise<number> {
    const counts = await Promise.all(runners.map((kind) => kind.run()));
    return counts.reduce((sum, count) => sum + count, 0);
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
      await Promise.all(runners.map((kind) => kind.settled()));
    },
  };
}
