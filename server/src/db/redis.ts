import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The optional Redis/Valkey connection (`REDIS_URL`): it takes rate limiting, HMAC nonces
 * and revocation fan-out from MySQL for speed (docs/operations.md, running several instances). Commands fail fast
 * when it is down instead of queueing for ever; callers fall back or refuse.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  client.on('error', (error: Error) => logger.warn({ err: error }, 'redis error'));
  return client;
}
