import { canonicalRequest, hmacHeaderNames, hmacNonceMaxBytes, hmacNonceMinBytes } from '@iam/shared';

export { type CanonicalRequestParts, canonicalRequest } from '@iam/shared';

/** The headers of a signed request (docs/api.md, HMAC request signing). */
export interface SignedHeaders {
  'x-iam-key-id': string;
  'x-iam-timestamp': string;
  'x-iam-nonce': string;
  'x-iam-signature': string;
}

export interface SignRequestInput {
  /** The HTTP method; signed in upper case. */
  method: string;
  /** The full URL the request goes to; its path and query string are signed as fetch sends them. */
  url?: string | URL;
  /** Instead of `url`: the path with query string exactly as sent, e.g. `/trpc/bff.introspect`. */
  path?: string;
  /** The exact body sent (a string is sent as UTF-8); none for GET. */
  body?: string | Uint8Array | null;
  keyId: string;
  /** The secret as written in the service's `HMAC_KEYS`; its UTF-8 bytes are the HMAC key. */
  secret: string;
  /** Unix milliseconds; default now. */
  timestamp?: number;
  /** base64url of 16–64 random bytes; default 32 fresh bytes. Never reuse one. */
  nonce?: string;
}

const defaultNonceBytes = 32;
const utf8 = new TextEncoder();

/**
 * Signs a request for the service's `bff.*` procedures: HMAC-SHA256 (RFC 2104) with the
 * secret's UTF-8 bytes over the canonical request. WebCrypto only, so it runs in Node, Deno,
 * Bun and edge runtimes alike. Returns the four headers to send.
 */
export async function signRequest(input: SignRequestInput): Promise<SignedHeaders> {
  const path = pathOf(input);
  const timestamp = String(input.timestamp ?? Date.now());
  const nonce = input.nonce ?? createNonce();
  const body = typeof input.body === 'string' ? utf8.encode(input.body) : input.body ? new Uint8Array(input.body) : new Uint8Array(0);
  const bodySha256Hex = hex(await crypto.subtle.digest('SHA-256', body));
  const canonical = canonicalRequest({ method: input.method, pathWithQuery: path, timestamp, nonce, bodySha256Hex });
  const key = await crypto.subtle.importKey('raw', utf8.encode(input.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = hex(await crypto.subtle.sign('HMAC', key, utf8.encode(canonical)));
  return {
    [hmacHeaderNames.keyId]: input.keyId,
    [hmacHeaderNames.timestamp]: timestamp,
    [hmacHeaderNames.nonce]: nonce,
    [hmacHeaderNames.signature]: signature,
  };
}

/** A fresh nonce: `bytes` random bytes (16–64), base64url without padding. */
export function createNonce(bytes = defaultNonceBytes): string {
  if (!Number.isInteger(bytes) || bytes < hmacNonceMinBytes || bytes > hmacNonceMaxBytes) {
    throw new RangeError(`a nonce has ${hmacNonceMinBytes}–${hmacNonceMaxBytes} bytes`);
  }
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function pathOf(input: SignRequestInput): string {
  if (input.path !== undefined) return input.path;
  if (input.url === undefined) throw new TypeError('signRequest needs a url or a path');
  // What fetch puts on the request line: the URL's path and query, as the URL parser serialises them.
  const url = new URL(input.url);
  return `${url.pathname}${url.search}`;
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
