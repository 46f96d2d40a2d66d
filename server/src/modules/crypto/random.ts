import { randomBytes, randomInt } from 'node:crypto';
import { encodeBase32 } from './base32';

/** An opaque secret of `bytes` CSPRNG bytes, base64url (RFC 4648 §5), for cookies and links. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
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
