import type { Redis } from 'ioredis';
import type { NonceStore } from './nonceStore';
import { sha256HexOfBytes } from './signature';

/**
 * Nonces in Redis: `SET key 1 NX PX ttl` is atomic across every instance sharing the
 * server, and the key expires by itself when its request could no longer be accepted.
 */
export function createRedisNonceStore(deps: { redis: Redis; now: () => Date }): NonceStore {
  return {
    async claim(keyId, nonce, expiresAt) {
      const ttlInMs = Math.max(1_000, expiresAt.getTime() - deps.now().getTime());
      const key = `iam:hmac-nonce:${keyId}:${sha256HexOfBytes(Buffer.concat([Buffer.from('hmac-nonce:', 'utf8'), nonce]))}`;
      return (await deps.redis.set(key, '1', 'PX', ttlInMs, 'NX')) === 'OK';
    },
  };
}
