/** Names of the cookies; in secure mode they carry the `__Host-` prefix (RFC 6265bis §4.1.3.2). */
export const cookieNames = {
  refreshToken: 'iam_rt',
  issuedAt: 'iam_iat',
  canary: 'iam_cid',
} as const;

/** tRPC batches are capped so one HTTP request cannot multiply attempts. */
export const maxCallsPerBatch = 10;

/** Request bodies above this are refused (API.md defaults). */
export const maxRequestBodyInBytes = 100 * 1024;

/** Prefixes of public ids, so an id says what it names. */
export const idPrefixes = {
  user: 'usr',
  session: 'ses',
  refreshToken: 'rtk',
  device: 'dev',
  challenge: 'chl',
  link: 'lnk',
  signingKey: 'key',
  auditEvent: 'aud',
} as const;

export type IdKind = keyof typeof idPrefixes;
