/** Names of the cookies; in secure mode they carry the `__Host-` prefix (RFC 6265bis §4.1.3.2). */
export const cookieNames = {
  refreshToken: 'iam_rt',
  issuedAt: 'iam_iat',
  canary: 'iam_cid',
} as const;

/** tRPC batches are capped so one HTTP request cannot multiply attempts. */
export const maxCallsPerBatch = 10;

/** Request bodies above this are refused (docs/api.md defaults). */
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
  outboxMessage: 'obx',
  passkey: 'pky',
  ceremony: 'wac',
  apiKey: 'apk',
  organization: 'org',
  invitation: 'inv',
  scimToken: 'sct',
  scimUser: 'scu',
  scimGroup: 'scg',
} as const;

export type IdKind = keyof typeof idPrefixes;

/** Headers of an HMAC-signed service request (docs/api.md, HMAC request signing). */
export const hmacHeaderNames = {
  keyId: 'x-iam-key-id',
  timestamp: 'x-iam-timestamp',
  nonce: 'x-iam-nonce',
  signature: 'x-iam-signature',
} as const;

/** A signed request is accepted within ± this many seconds of the service's clock (docs/api.md). */
export const hmacClockWindowInSeconds = 300;

/** Nonce length once base64url-decoded (docs/api.md: at least 16 random bytes, at most 64). */
export const hmacNonceMinBytes = 16;
export const hmacNonceMaxBytes = 64;

/** The procedures a signed service request may call; a key may be limited to some of them. */
export const bffProcedureNames = [
  'bff.introspect',
  'bff.authorize',
  'bff.refresh',
  'bff.logout',
  'bff.verifyApiKey',
  'bff.login',
  'bff.signup',
  'bff.verifyEmail',
  'bff.verifyChallenge',
] as const;

export type BffProcedureName = (typeof bffProcedureNames)[number];
