import { randomBytes, randomFillSync, randomInt } from 'node:crypto';
import { encodeBase32 } from './base32';

// CSPRNG bytes drawn 4 KiB at a time and handed out once each, front to back (as node's own
// randomUUID batches its randomness): one system call serves a hundred ids and tokens instead
// of one each. Every byte still comes from the CSPRNG (NIST SP 800-90A via OpenSSL) and none is
// given out twice; a request larger than a quarter of the pool is drawn on its own.
const pool = Buffer.allocUnsafeSlow(4096);
let poolOffset = pool.length;

/** `bytes` fresh CSPRNG bytes, in a buffer of their own. */
export function secureRandomBytes(bytes: number): Buffer {
  if (bytes > pool.length / 4) return randomBytes(bytes);
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.allocUnsafe(bytes);
  pool.copy(out, 0, poolOffset, poolOffset + bytes);
  // The bytes given out are wiped from the pool, so a later read of it cannot recover them.
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** An opaque secret of `bytes` CSPRNG bytes, base64url (RFC 4648 §5), for cookies and links. */
export function randomToken(bytes = 32): string {
  return secureRandomBytes(bytes).toString('base64url');
}

/** A decimal one-time code of `digits` digits, uniform (no modulo bias: `randomInt` rejects). */
export function randomDigits(digits: number): string {
  let code = '';
  for (let i = 0; i < digits; i++) code += randomInt(0, 10).toString();
  return code;
}

/** Lowercase RFC 4648 base32 without padding; used for ids so they read well in logs. */
export function base32(bytes: Uint8Array): string {
  return encodeBase32(bytes).toLowerCase();
}
