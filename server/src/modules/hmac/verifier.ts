import { canonicalRequest, hmacClockWindowInSeconds, hmacHeaderNames, hmacNonceMaxBytes, hmacNonceMinBytes } from '@iam/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { assertValidHmacKeys, type HmacKeyConfig, isHmacKeyId } from './keys';
import type { NonceStore, SweepableNonceStore } from './nonceStore';
import { isSignatureShape, sha256HexOfBytes, signaturesMatch, signCanonicalRequest } from './signature';

/** What the HTTP layer hands over: the request as it arrived, untouched. */
export interface SignedRequest {
  method: string;
  /** The request target as received: path and query string exactly as sent. */
  pathWithQuery: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body bytes; null when they could not be captured (the request is refused). */
  body: Uint8Array | null;
  /** Every procedure the request calls (a batch names several). */
  procedures: readonly string[];
}

export type HmacRefusal = 'HMAC_INVALID' | 'HMAC_REPLAY' | 'HMAC_CLOCK_SKEW';

export type HmacVerdict = { ok: true; keyId: string } | { ok: false; code: HmacRefusal; reason: string; keyId: string | null };

export interface HmacService {
  /** Ids of the configured keys. */
  readonly keyIds: readonly string[];
  /**
   * Authenticates a signed request: headers, key, signature (constant-time), clock window,
   * the key's procedure allowlist, then the nonce — claimed only once all else holds, so
   * unauthenticated junk never reaches the store. Never throws for a bad request; throws
   * only when the nonce store fails.
   */
  verify(request: SignedRequest): Promise<HmacVerdict>;
  /** Forgets nonces whose requests can no longer be accepted. */
  sweepNonces(): Promise<number>;
}

/**
 * A nonce is kept until its request's timestamp has left the window, plus this margin for
 * clocks of several instances that disagree a little.
 */
const nonceRetentionMarginInSeconds = 60;
const timestampPattern = /^[0-9]{1,16}$/;
const noncePattern = /^[A-Za-z0-9_-]+={0,2}$/;

interface KeyEntry {
  secret: string;
  /** null: every `bff.*` procedure. */
  procedures: ReadonlySet<string> | null;
}

export function createHmacService(deps: {
  keys: readonly HmacKeyConfig[];
  nonces: NonceStore | SweepableNonceStore;
  clock: Clock;
  logger?: Logger;
  windowInSeconds?: number;
}): HmacService {
  assertValidHmacKeys(deps.keys);
  const windowInMs = (deps.windowInSeconds ?? hmacClockWindowInSeconds) * 1000;
  const keys = new Map<string, KeyEntry>();
  for (const key of deps.keys) {
    // RFC 2104 §3: keys shorter than the hash output (32 bytes) are strongly discouraged.
    if (Buffer.byteLength(key.secret, 'utf8') < 32) deps.logger?.warn({ keyId: key.id }, 'HMAC key secret is shorter than 32 bytes');
    const procedures = key.procedures === undefined || key.procedures.includes('bff.*') ? null : new Set(key.procedures);
    keys.set(key.id, { secret: key.secret, procedures });
  }

  const refuse = (code: HmacRefusal, reason: string, keyId: string | null = null): HmacVerdict => ({ ok: false, code, reason, keyId });

  return {
    keyIds: [...keys.keys()],

    async verify(request) {
      const keyId = singleHeader(request.headers, hmacHeaderNames.keyId);
      const timestamp = singleHeader(request.headers, hmacHeaderNames.timestamp);
      const nonceText = singleHeader(request.headers, hmacHeaderNames.nonce);
      const signature = singleHeader(request.headers, hmacHeaderNames.signature);
      if (keyId === null || timestamp === null || nonceText === null || signature === null) {
        return refuse('HMAC_INVALID', 'missing signature headers');
      }
      if (!isHmacKeyId(keyId)) return refuse('HMAC_INVALID', 'malformed key id');
      const key = keys.get(keyId);
      if (!key) return refuse('HMAC_INVALID', 'unknown key id', keyId);
      if (!timestampPattern.test(timestamp)) return refuse('HMAC_INVALID', 'malformed timestamp', keyId);
      const nonce = decodeNonce(nonceText);
      if (!nonce) return refuse('HMAC_INVALID', 'malformed nonce', keyId);
      if (!isSignatureShape(signature)) return refuse('HMAC_INVALID', 'malformed signature', keyId);
      if (request.body === null) return refuse('HMAC_INVALID', 'request body unavailable', keyId);

      const canonical = canonicalRequest({
        method: request.method,
        pathWithQuery: request.pathWithQuery,
        timestamp,
        nonce: nonceText,
        bodySha256Hex: sha256HexOfBytes(request.body),
      });
      if (!signaturesMatch(signCanonicalRequest(key.secret, canonical), signature)) return refuse('HMAC_INVALID', 'bad signature', keyId);

      // Judged only for authentic requests, so a stranger learns nothing from the answer.
      const sentAt = Number(timestamp);
      const now = deps.clock.now().getTime();
      if (Math.abs(now - sentAt) > windowInMs) return refuse('HMAC_CLOCK_SKEW', 'timestamp outside the window', keyId);

      if (request.procedures.length === 0) return refuse('HMAC_INVALID', 'no procedure named', keyId);
      for (const procedure of request.procedures) {
        if (!procedure.startsWith('bff.') || (key.procedures !== null && !key.procedures.has(procedure))) {
          return refuse('HMAC_INVALID', `procedure ${procedure.slice(0, 64)} not allowed for this key`, keyId);
        }
      }

      // Once per key, across instances and restarts (docs/api.md); kept while the request could still be accepted.
      const expiresAt = new Date(sentAt + windowInMs + nonceRetentionMarginInSeconds * 1000);
      if (!(await deps.nonces.claim(keyId, nonce, expiresAt))) return refuse('HMAC_REPLAY', 'nonce already used', keyId);
      return { ok: true, keyId };
    },

    async sweepNonces() {
      return 'sweep' in deps.nonces ? deps.nonces.sweep(deps.clock.now()) : 0;
    },
  };
}

/** A header sent exactly once (node joins repeated custom headers with `, `, which no valid value contains). */
function singleHeader(headers: SignedRequest['headers'], name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The nonce's bytes: base64url (RFC 4648 §5; padding tolerated), 16–64 bytes once decoded.
 * Replays are judged on the bytes, so two spellings of one nonce are one nonce.
 */
function decodeNonce(text: string): Uint8Array | null {
  if (text.length > 128 || !noncePattern.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length >= hmacNonceMinBytes && bytes.length <= hmacNonceMaxBytes ? bytes : null;
}
