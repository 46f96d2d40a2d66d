import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 is the right hash for high-entropy secrets (≥ 128 random bits: refresh tokens,
 * link tokens, canaries): nothing to brute-force, so no slow hash is needed. Low-entropy secrets (codes) use `keyedHash` so a database copy alone cannot
 * be brute-forced offline.
 */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function hmacSha256Hex(key: Uint8Array | string, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** Compares two strings in time independent of where they differ, so timing reveals nothing of a secret. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    // Still spend one comparison so the length mismatch is not a fast path.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
