import { createHmac } from 'node:crypto';
import type { IamClient } from '@iam/client';

/**
 * An authenticator app for tests, written apart from the service's own code (RFC 4648
 * base32, RFC 4226 HOTP, RFC 6238 TOTP with SHA-1, 6 digits, 30 s), so the suites check the
 * service against an independent implementation.
 */
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32ToBytes(secret: string): Buffer {
  let bits = '';
  for (const char of secret.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    bits += index.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(Number.parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The 6-digit code an app shows at `at`, or `steps` steps of 30 s later (negative: earlier). */
export function totpCode(secret: string, at: Date, steps = 0): string {
  const counter = Math.floor(at.getTime() / 1000 / 30) + steps;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32ToBytes(secret)).update(message).digest();
  const offset = (mac.at(-1) ?? 0) & 0xf;
  const value = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 1_000_000).padStart(6, '0');
}

/** Six-digit codes that no step within ±`span` of `at` produces: surely wrong guesses. */
export function wrongTotpCodes(secret: string, at: Date, count: number, span = 3): string[] {
  const near = new Set<string>();
  for (let step = -span; step <= span; step++) near.add(totpCode(secret, at, step));
  const codes: string[] = [];
  for (let n = 100_000; codes.length < count; n += 7_919) {
    const code = String(n % 1_000_000).padStart(6, '0');
    if (!near.has(code) && !codes.includes(code)) codes.push(code);
  }
  return codes;
}

/** Enrols TOTP through the service, confirming with the code of the returned secret at `now`. */
export async function enrolTotp(api: IamClient, now: Date): Promise<{ secret: string; otpauthUri: string; backupCodes: string[] }> {
  const { secret, otpauthUri } = await api.mfa.totp.begin.mutate();
  const { backupCodes } = await api.mfa.totp.confirm.mutate({ code: totpCode(secret, now) });
  return { secret, otpauthUri, backupCodes };
}

/** The `Challenge` of a sign-in (or step-up) result; fails the test on anything else. */
export function challengeOf<T extends { status: string }>(result: T): Extract<T, { status: 'mfa_required' }> {
  if (result.status !== 'mfa_required') throw new Error(`expected a challenge, got ${result.status}`);
  return result as Extract<T, { status: 'mfa_required' }>;
}
