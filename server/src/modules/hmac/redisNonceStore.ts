import type { Redis } from 'ioredis';
import { IamError } from '../errors/iamError';
import type { NonceStore } from './nonceStore';
import { sha256HexOfBytes } from './signature';

/**
 * Nonces in Redis: `SET key 1 NX PX ttl` is atomic across every instance sharing the
 * server, and the key expires by itself when its request could no longer be accepted.
 * While Redis is down a signed call is refused with SERVICE_UNAVAILABLE (retry shortly): a
 * nonce cannot be judged without the store that remembers it, and claiming it in MySQL instead
 * would accept a replay of one Redis saw (OWASP ASVS 4.0 V3.5.3: no replay of signed requests).
 */
export function createRedisNonceStore(deps: { redis: Redis; now: () => Date }): NonceStore {
  return {
    async claim(keyId, nonce, expiresAt) {
      const ttlInMs = Math.max(1_000, expiresAt.getTime() - deps.now().getTime());
      const key = `iam:hmac-nonce:${keyId}:${sha256HexOfBytes(Buffer.concat([Buffer.from('hmac-nonce:', 'utf8'), nonce]))}`;
      // A disconnected client would hold the command for its reconnection attempts.
      if (deps.redis.status !== 'ready') throw unavailable();
      try {
        return (await deps.redis.set(key, '1', 'PX', ttlInMs, 'NX')) === 'OK';
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}

const unavailable = (cause?: unknown) => new IamError('SERVICE_UNAVAILABLE', { retryAfterSeconds: 1, cause });
