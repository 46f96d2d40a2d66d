import { randomInt } from 'node:crypto';

/**
 * Backup codes: NIST SP 800-63B §5.1.2 look-up secrets. Each is 10 characters of the
 * RFC 4648 base32 alphabet in lower case (50 bits from a CSPRNG; §5.1.2.1 asks ≥ 20 bits
 * when guesses are rate limited), shown once as `xxxxx-xxxxx`, stored only as a keyed hash
 * (§5.1.2.2: below 112 bits, so a plain hash of a database copy could be searched), and
 * accepted once, in any case, with or without the dash.
 */
export const backupCodeCount = 10;
const backupCodeLength = 10;
const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

export function generateBackupCode(): string {
  let code = '';
  for (let i = 0; i < backupCodeLength; i++) code += alphabet[randomInt(0, alphabet.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

export function generateBackupCodes(count = backupCodeCount): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateBackupCode());
  return [...codes];
}

/** The canonical form a backup code is hashed in (`abcde23456`), or null when it cannot be one. */
export function normalizeBackupCode(input: string): string | null {
  const compact = input
    .trim()
    .toLowerCase()
    .replace(/^([a-z2-7]{5})-([a-z2-7]{5})$/, '$1$2');
  return /^[a-z2-7]{10}$/.test(compact) ? compact : null;
}
