import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function sha256HexOfBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** HMAC-SHA256 (RFC 2104, FIPS 198-1) keyed with the UTF-8 bytes of the secret, in lowercase hex. */
export function signCanonicalRequest(secret: string, canonical: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(canonical, 'utf8').digest('hex');
}

const signaturePattern = /^[0-9a-f]{64}$/;

/** A presented signature has the shape docs/api.md fixes: 64 lowercase hex digits. */
export function isSignatureShape(value: string): boolean {
  return signaturePattern.test(value);
}

/**
 * Compares two signatures in time independent of where they differ, so a forger learns
 * nothing from how long a refusal takes.
 */
export function signaturesMatch(expectedHex: string, presentedHex: string): boolean {
  if (!isSignatureShape(expectedHex) || !isSignatureShape(presentedHex)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(presentedHex, 'hex'));
}
