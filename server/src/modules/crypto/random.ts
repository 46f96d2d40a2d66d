import { randomBytes, randomInt } from 'node:crypto';

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

const base32Alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lowercase RFC 4648 base32 without padding; used for ids so they read well in logs. */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  return out;
}
