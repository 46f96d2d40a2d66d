import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto/hash';

/**
 * One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238). Small pure functions; the time,
 * the key and the last accepted step are passed in.
 */

export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** RFC 6238 §4.1: X, the time step, 30 s by default (and what every authenticator app assumes). */
export const totpPeriodInSeconds = 30;
/** RFC 4226 §5.3: at least 6 digits; authenticator apps show 6. */
export const totpDigits = 6;
/**
 * RFC 6238 §5.2 / §6: allow for clock drift and network delay, at most one step each way
 * (so a code lives ~90 s at most).
 */
export const totpDriftSteps = 1;
/** RFC 4226 §4 R6: the shared secret is at least 128 bits, 160 recommended: 20 bytes. */
export const totpSecretBytes = 20;

/** RFC 4226 §5.3: HMAC of the 8-byte big-endian counter, dynamic truncation, modulo 10^digits. */
export function hotp(key: Uint8Array, counter: number | bigint, digits = totpDigits, algorithm: OtpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary =
    (((mac[offset] ?? 0) & 0x7f) << 24) |
    (((mac[offset + 1] ?? 0) & 0xff) << 16) |
    (((mac[offset + 2] ?? 0) & 0xff) << 8) |
    ((mac[offset + 3] ?? 0) & 0xff);
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

/** RFC 6238 §4.2: T = floor((unix time − T0) / X), with T0 = 0. */
export function totpTimeStep(timeInSeconds: number, periodInSeconds = totpPeriodInSeconds): number {
  return Math.floor(timeInSeconds / periodInSeconds);
}

export interface TotpOptions {
  digits?: number;
  periodInSeconds?: number;
  algorithm?: OtpAlgorithm;
}

/** The TOTP value at a Unix time (RFC 6238 §4.2: HOTP with T as the counter). */
export function totp(key: Uint8Array, timeInSeconds: number, options: TotpOptions = {}): string {
  return hotp(key, totpTimeStep(timeInSeconds, options.periodInSeconds), options.digits ?? totpDigits, options.algorithm);
}

/**
 * The time step a code belongs to, within ±`totpDriftSteps` of now and strictly after
 * `afterStep` (the last accepted one: RFC 6238 §5.2, a code is never accepted twice), or
 * null. Every candidate is computed and compared in constant time, so the answer's timing
 * does not say which step came close.
 */
export function matchTotpStep(
  key: Uint8Array,
  code: string,
  timeInSeconds: number,
  afterStep: number | null,
  options: TotpOptions = {},
): number | null {
  const digits = options.digits ?? totpDigits;
  if (code.length !== digits || !/^[0-9]+$/.test(code)) return null;
  const current = totpTimeStep(timeInSeconds, options.periodInSeconds);
  let matched: number | null = null;
  for (let step = current - totpDriftSteps; step <= current + totpDriftSteps; step++) {
    const equal = constantTimeEqual(hotp(key, step, digits, options.algorithm), code);
    if (equal && matched === null && (afterStep === null || step > afterStep)) matched = step;
  }
  return matched;
}

/**
 * The `otpauth://` URI authenticator apps scan (Google Authenticator "Key Uri Format"): the
 * label `issuer:account` and the parameters spelled out, so no app has to guess.
 */
export function otpauthUri(input: { issuer: string; accountName: string; secret: string }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`;
  // Percent-encoding throughout (not `+` for spaces, which some apps show literally).
  const params = [
    ['secret', input.secret],
    ['issuer', input.issuer],
    ['algorithm', 'SHA1'],
    ['digits', String(totpDigits)],
    ['period', String(totpPeriodInSeconds)],
  ].map(([name, value]) => `${name}=${encodeURIComponent(value ?? '')}`);
  return `otpauth://totp/${label}?${params.join('&')}`;
}
