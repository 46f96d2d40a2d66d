import { gte } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { sessions } from '../../db/tables';
import type { Clock } from '../clock';
import { repeatEvery } from '../polling';

/**
 * The sessions revoked within the last access-token lifetime, kept in memory so that every
 * authenticated call checks revocation with a map lookup. Revocations made here are added
 * at once; those made by other instances arrive through a poll of the sessions table (the
 * shared store), so a logout is honoured everywhere within `pollIntervalInMs`. A session
 * revoked longer ago than the token lifetime has no live access token left, so it can be
 * forgotten.
 */
export interface RevocationSet {
  isRevoked(sessionId: string): boolean;
  add(sessionId: string, revokedAt: Date): void;
  start(): Promise<void>;
  stop(): void;
}

/**
 * Twice a second: a logout is refused by every other instance within the poll plus the time the
 * query and the database's replication take, well inside the second the API promises (OWASP
 * ASVS 4.0 V3.3.1: logout invalidates the session everywhere). One indexed range read per poll.
 */
export const defaultRevocationPollIntervalInMs = 500;

export function createRevocationSet(deps: {
  db: Database;
  clock: Clock;
  logger: Logger;
  windowInSeconds: number;
  pollIntervalInMs?: number;
  /** With Redis, revocations also fan out over pub/sub: every instance hears of them at once. */
  redis?: Redis;
}): RevocationSet {
  const revoked = new Map<string, number>();
  const windowInMs = (deps.windowInSeconds + 60) * 1000;
  // Re-read a little of the past on every poll: a transaction that stamped `revoked_at`
  // just before the previous poll may have committed just after it.
  const overlapInMs = 10_000;
  let since = 0;
  let polling: { stop(): void } | undefined;
  let subscriber: Redis | undefined;
  const channel = 'iam:revocations';

  async function poll(): Promise<void> {
    const now = deps.clock.now().getTime();
    const from = new Date(Math.max(since - overlapInMs, now - windowInMs));
    const rows = await deps.db
      .select({ id: sessions.id, revokedAt: sessions.revokedAt })
      .from(sessions)
      .where(gte(sessions.revokedAt, from));
    for (const row of rows) if (row.revokedAt) revoked.set(row.id, row.revokedAt.getTime());
    since = now;
    for (const [id, at] of revoked) if (at < now - windowInMs) revoked.delete(id);
  }

  return {
    isRevoked: (sessionId) => revoked.has(sessionId),
    add(sessionId, revokedAt) {
      revoked.set(sessionId, revokedAt.getTime());
      deps.redis?.publish(channel, JSON.stringify({ sessionId, at: revokedAt.getTime() })).catch((error: unknown) => {
        // The poll of the sessions table still carries it within a second.
        deps.logger.warn({ err: error }, 'revocation fan-out failed');
      });
    },
    async start() {
      if (deps.redis) {
        subscriber = deps.redis.duplicate();
        // Its connection errors are the main client's too, and logged there once.
        subscriber.on('error', () => {});
        subscriber.on('message', (_channel: string, message: string) => {
          try {
            const { sessionId, at } = JSON.parse(message) as { sessionId: unknown; at: unknown };
            if (typeof sessionId === 'string' && typeof at === 'number') revoked.set(sessionId, at);
          } catch {
            // Not ours: ignore.
          }
        });
        await subscriber.subscribe(channel);
      }
      await poll();
      polling = repeatEvery(deps.pollIntervalInMs ?? defaultRevocationPollIntervalInMs, poll, (error) =>
        deps.logger.warn({ err: error }, 'revocation poll failed; retrying'),
      );
    },
    stop() {
      polling?.stop();
      polling = undefined;
      subscriber?.disconnect();
      subscriber = undefined;
    },
  };
}
