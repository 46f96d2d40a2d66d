import { setTimeout as sleep } from 'node:timers/promises';
import { lt } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { isDuplicateKeyError, isTransientConflictError } from '../../db/client';
import { hmacNonces } from '../../db/tables';
import { sha256HexOfBytes } from './signature';

/**
 * Where nonces of signed requests are remembered until their request can no longer be
 * accepted. `claim` is atomic across every instance: true the first time a key presents a
 * nonce, false ever after (a replay). MySQL is the store every deployment has; a Redis store
 * can implement the same interface.
 */
export interface NonceStore {
  claim(keyId: string, nonce: Uint8Array, expiresAt: Date): Promise<boolean>;
}

export interface SweepableNonceStore extends NonceStore {
  /** Deletes nonces whose requests are past the window; returns how many. */
  sweep(now: Date): Promise<number>;
}

/** Only a hash of the nonce is stored (hashes at rest). */
function nonceHash(nonce: Uint8Array): string {
  return sha256HexOfBytes(Buffer.concat([Buffer.from('hmac-nonce:', 'utf8'), nonce]));
}

/**
 * The `hmac_nonces` table: a claim is one INSERT, and the primary key (key_id, nonce_hash)
 * turns a second claim into a duplicate-key error, whichever instance makes it.
 */
export function createMysqlNonceStore(deps: { db: Database }): SweepableNonceStore {
  return {
    async claim(keyId, nonce, expiresAt) {
      // The same nonce sent to several nodes of a cluster at once: one insert certifies, the
      // others fail certification (1213) and are tried again, then find the row (a replay).
      // Never twice true: two inserts of one key cannot both commit.
      for (let attempt = 1; ; attempt++) {
        try {
          await deps.db.insert(hmacNonces).values({ keyId, nonceHash: nonceHash(nonce), expiresAt });
          return true;
        } catch (error) {
          if (isDuplicateKeyError(error)) return false;
          if (attempt >= 5 || !isTransientConflictError(error)) throw error;
          await sleep(attempt * 5 + Math.floor(Math.random() * 10));
        }
      }
    },
    async sweep(now) {
      const [result] = await deps.db.delete(hmacNonces).where(lt(hmacNonces.expiresAt, now));
      return result.affectedRows;
    },
  };
}
