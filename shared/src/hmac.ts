/** The first line of every canonical request; a new scheme would get a new version. */
export const hmacSchemeVersion = 'v1';

export interface CanonicalRequestParts {
  method: string;
  /** The path with its query string, exactly as sent (the request target). */
  pathWithQuery: string;
  /** The `x-iam-timestamp` header as sent (Unix milliseconds). */
  timestamp: string;
  /** The `x-iam-nonce` header as sent. */
  nonce: string;
  /** Lowercase hex SHA-256 of the raw body bytes (of the empty string when there is none). */
  bodySha256Hex: string;
}

/**
 * The canonical form of a signed request, the one both the signer (`@iam/client`) and the
 * verifier (the service) compute: six lines joined by `\n` — the scheme version, the method in
 * upper case, the path with query exactly as sent, the timestamp, the nonce and the lowercase
 * hex SHA-256 of the raw body. The signature is HMAC-SHA256 (RFC 2104) over it.
 */
export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [hmacSchemeVersion, parts.method.toUpperCase(), parts.pathWithQuery, parts.timestamp, parts.nonce, parts.bodySha256Hex].join('\n');
}
