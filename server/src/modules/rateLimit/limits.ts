/**
 * Every limit the service enforces, by name, with its default. Operators override any of
 * them through `rateLimits` in IAM_CONFIG_FILE (OWASP ASVS 4.0 V2.2.1: anti-automation;
 * NIST SP 800-63B §5.2.2: rate limiting of failed authentication attempts).
 */
export interface LimitSpec {
  points: number;
  durationInSeconds: number;
  /** When set, going over the points blocks the key this long. */
  blockInSeconds?: number;
}

export const defaultLimits = {
  // Sign-up: docs/api.md, "signup, one IP ≤ 5 an hour".
  signupPerIp: { points: 5, durationInSeconds: 3600 },
  // Mails to one address are capped quietly (docs/security.md, lockout resistance): the
  // address's budget, then one an hour per requesting network, and a device of the account
  // has a budget of its own.
  signupPerEmail: { points: 5, durationInSeconds: 3600 },
  signupPerEmailNetwork: { points: 1, durationInSeconds: 3600 },
  signupPerDevice: { points: 5, durationInSeconds: 3600 },
  // Login attempts, whatever their outcome: bursts from one IP or at one account.
  loginPerIp: { points: 30, durationInSeconds: 60 },
  loginPerIpEmail: { points: 10, durationInSeconds: 60 },
  // Login failures. One account from one IP: 5 consecutive → refused 15 min, even with the
  // right password (reset by a success).
  loginFailuresPerIpEmail: { points: 5, durationInSeconds: 24 * 3600, blockInSeconds: 15 * 60 },
  // One IP: at most 100 failures a day, across accounts (password spraying).
  loginFailuresPerIp: { points: 100, durationInSeconds: 24 * 3600, blockInSeconds: 24 * 3600 },
  // One account from many IPs: past this, the right password yields an email challenge
  // instead of tokens; the account is never locked for its owner.
  loginFailuresPerEmail: { points: 10, durationInSeconds: 3600 },
  refreshPerIp: { points: 120, durationInSeconds: 60 },
  // Codes and links: on top of the 5 tries each challenge allows.
  codesPerIp: { points: 30, durationInSeconds: 600 },
  linksPerIp: { points: 30, durationInSeconds: 600 },
  resendsPerIp: { points: 10, durationInSeconds: 600 },
  // Password reset: docs/api.md, "≤ 3 reset mails an hour per address, whatever the caller sees".
  passwordResetPerEmail: { points: 3, durationInSeconds: 3600 },
  passwordResetPerEmailNetwork: { points: 1, durationInSeconds: 3600 },
  passwordResetPerDevice: { points: 3, durationInSeconds: 3600 },
  passwordResetPerIp: { points: 10, durationInSeconds: 3600 },
  // Passwordless sign-in mails: docs/api.md, "≤ 5 mails an hour" per address, quietly; then one
  // per requesting network, and a device of the account has its own budget.
  signInMailsPerEmail: { points: 5, durationInSeconds: 3600 },
  signInMailsPerEmailNetwork: { points: 1, durationInSeconds: 3600 },
  signInMailsPerDevice: { points: 5, durationInSeconds: 3600 },
  signInRequestsPerIp: { points: 20, durationInSeconds: 3600 },
  passwordChangePerUser: { points: 10, durationInSeconds: 3600 },
  // Account self-service, per user: profile changes, data exports, deletion attempts.
  accountChangesPerUser: { points: 20, durationInSeconds: 3600 },
  // MFA: enrolling, confirming and disabling TOTP, per user.
  mfaChangesPerUser: { points: 10, durationInSeconds: 3600 },
  // Step-up challenges opened per user (each may mail a code).
  stepUpPerUser: { points: 10, durationInSeconds: 600 },
  // Email changes asked per user (each mails the new and the old address).
  emailChangePerUser: { points: 5, durationInSeconds: 3600 },
  // Social sign-in (oauth.authorize, oauth.callback and its GET route, oauth.link, oauth.unlink), per IP.
  oauthPerIp: { points: 30, durationInSeconds: 60 },
  // sso.discover and sso.authorize, public: one IP asking about many addresses (home-realm discovery is no directory).
  ssoDiscoverPerIp: { points: 30, durationInSeconds: 60 },
  // Markup probes: docs/api.md, "3 probes from one IP in 10 min → that IP blocked 15 min".
  markupStrikesPerIp: { points: 3, durationInSeconds: 600 },
  // Signed service calls (bff.*), per key: generous, a BFF serves many users.
  hmacPerKey: { points: 6000, durationInSeconds: 60 },
  // API keys: creating and revoking them, per user; verifying one (bff.verifyApiKey,
  // iam.verifyApiKey), per key, counted by the key's SHA-256 (never the key).
  apiKeyChangesPerUser: { points: 30, durationInSeconds: 3600 },
  apiKeyVerificationsPerKey: { points: 600, durationInSeconds: 60 },
  // Organizations: every change (org.create … org.revokeSessions), per user; invitations sent
  // (each mails an address that may not be the inviter's), per user.
  orgChangesPerUser: { points: 30, durationInSeconds: 3600 },
  orgInvitesPerUser: { points: 20, durationInSeconds: 3600 },
  // SCIM provisioning (/scim/v2): every request from one IP (before its token is read, so
  // guessing tokens is slow), and every request of one token (an identity provider syncing a
  // large directory stays well inside it).
  scimPerIp: { points: 600, durationInSeconds: 60 },
  scimPerToken: { points: 600, durationInSeconds: 60 },
  // Refused signatures from one IP (bad, stale, replayed): past this, RATE_LIMITED.
  hmacFailuresPerIp: { points: 30, durationInSeconds: 60 },
  // Bookkeeping of IP blocks: the block itself, and how many blocks an IP earned in a day.
  ipBlocks: { points: 1, durationInSeconds: 1 },
  ipBlocksPerDay: { points: 1000, durationInSeconds: 24 * 3600 },
} satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof defaultLimits;

/**
 * A blocked IP's block grows with each new block within a day, and never becomes
 * permanent: a ban must not become a way to lock a victim out (docs/security.md).
 */
export const defaultBlockLadderInSeconds = [15 * 60, 3600, 24 * 3600];

export type LimitOverrides = Partial<Record<LimitName, Partial<LimitSpec>>> & { ipBlockLadderInSeconds?: number[] };

/**
 * The standalone service's development profile (NODE_ENV=development, docs/operations.md):
 * a developer signs up and in over and over from one address, so the per-IP sign-up and login
 * limits get ten times the points. Per-account protections (failures per account, mail caps per
 * address) stay as they are. The library applies the same profile in development (`environment`,
 * default NODE_ENV; see environment.ts).
 */
export const developmentLimitOverrides = {
  signupPerIp: { points: defaultLimits.signupPerIp.points * 10 },
  loginPerIp: { points: defaultLimits.loginPerIp.points * 10 },
  loginFailuresPerIp: { points: defaultLimits.loginFailuresPerIp.points * 10 },
} satisfies LimitOverrides;
