/**
 * The error catalog: every refusal the service makes carries one of these codes in
 * `error.data.iamCode`. Codes are stable: add new ones, never rename. Messages are for
 * humans and never reveal whether an account exists.
 */
export const iamErrors = {
  INVALID_INPUT: { status: 'BAD_REQUEST', message: 'The request is not valid.' },
  INVALID_CREDENTIALS: { status: 'UNAUTHORIZED', message: 'The email or password is incorrect.' },
  VERIFICATION_REQUIRED: { status: 'FORBIDDEN', message: 'The email address must be verified first.' },
  UNAUTHENTICATED: { status: 'UNAUTHORIZED', message: 'Sign in to continue.' },
  TOKEN_EXPIRED: { status: 'UNAUTHORIZED', message: 'The access token has expired.' },
  SESSION_REVOKED: { status: 'UNAUTHORIZED', message: 'The session has ended.' },
  REFRESH_TOKEN_INVALID: { status: 'UNAUTHORIZED', message: 'The session has ended; sign in again.' },
  REFRESH_TOKEN_REUSED: { status: 'UNAUTHORIZED', message: 'The session has ended; sign in again.' },
  CHALLENGE_INVALID: { status: 'BAD_REQUEST', message: 'The challenge is not valid.' },
  CODE_INVALID: { status: 'BAD_REQUEST', message: 'The code is not valid.' },
  CHALLENGE_EXHAUSTED: { status: 'BAD_REQUEST', message: 'Too many wrong codes; start again.' },
  LINK_INVALID: { status: 'BAD_REQUEST', message: 'The link is not valid or has expired.' },
  STEP_UP_REQUIRED: { status: 'FORBIDDEN', message: 'Confirm your identity to continue.' },
  TOTP_ALREADY_ENABLED: { status: 'BAD_REQUEST', message: 'An authenticator app is already set up; turn it off first.' },
  FORBIDDEN: { status: 'FORBIDDEN', message: 'You are not allowed to do this.' },
  USER_DISABLED: { status: 'FORBIDDEN', message: 'This account is disabled; contact support.' },
  NOT_FOUND: { status: 'NOT_FOUND', message: 'Not found.' },
  RATE_LIMITED: { status: 'TOO_MANY_REQUESTS', message: 'Too many attempts; try again later.' },
  BOT_CHECK_REQUIRED: {
    status: 'BAD_REQUEST',
    message: 'Solve the proof-of-work in error.data.botCheck and send the call again with its solution.',
  },
  IP_BLOCKED: { status: 'TOO_MANY_REQUESTS', message: 'Too many attempts; try again later.' },
  XSS_DETECTED: { status: 'BAD_REQUEST', message: 'Markup is not allowed in this field.' },
  EMAIL_MANAGED_BY_ORGANIZATION: {
    status: 'FORBIDDEN',
    message: 'Your organization manages this address; ask its administrator to change it.',
  },
  EMAIL_DISPOSABLE: { status: 'BAD_REQUEST', message: 'Disposable email addresses are not accepted.' },
  EMAIL_DOMAIN_INVALID: { status: 'BAD_REQUEST', message: 'The email domain cannot receive mail.' },
  PASSWORD_TOO_WEAK: { status: 'BAD_REQUEST', message: 'Choose a longer or less common password.' },
  PASSWORD_BREACHED: { status: 'BAD_REQUEST', message: 'This password has appeared in a data breach; choose another.' },
  HMAC_INVALID: { status: 'UNAUTHORIZED', message: 'The request signature is not valid.' },
  HMAC_REPLAY: { status: 'UNAUTHORIZED', message: 'The request was already received.' },
  HMAC_CLOCK_SKEW: { status: 'UNAUTHORIZED', message: 'The request timestamp is outside the allowed window.' },
  OAUTH_STATE_INVALID: { status: 'BAD_REQUEST', message: 'The sign-in attempt is not valid; start again.' },
  OAUTH_PROVIDER_ERROR: { status: 'BAD_GATEWAY', message: 'The sign-in provider did not answer as expected.' },
  OAUTH_RETURN_TO_INVALID: { status: 'BAD_REQUEST', message: 'The return address is not allowed.' },
  OAUTH_ACCOUNT_LINKED: {
    status: 'BAD_REQUEST',
    message: 'Another account of this sign-in provider is already linked; unlink it first.',
  },
  PASSKEY_INVALID: { status: 'BAD_REQUEST', message: 'The passkey could not be verified; try again.' },
  PASSWORD_REQUIRED: {
    status: 'BAD_REQUEST',
    message: 'This account was created in another browser: choose your own password to finish.',
  },
  LAST_SIGN_IN_METHOD: {
    status: 'BAD_REQUEST',
    message: 'This is the last way to sign in to the account; add another first.',
  },
  OAUTH_LAST_SIGN_IN_METHOD: {
    status: 'BAD_REQUEST',
    message: 'This is the last way to sign in; set a password or link another provider first.',
  },
  API_KEY_LIMIT_REACHED: {
    status: 'BAD_REQUEST',
    message: 'You have the most API keys an account may hold; revoke one you no longer use first.',
  },
  ORG_SLUG_TAKEN: { status: 'CONFLICT', message: 'Another organization already uses this slug; choose another.' },
  ORG_FORBIDDEN: { status: 'FORBIDDEN', message: 'Your role in this organization does not allow this.' },
  ORG_ALREADY_MEMBER: { status: 'CONFLICT', message: 'This person is already a member of the organization.' },
  ORG_INVITATION_EMAIL_MISMATCH: {
    status: 'FORBIDDEN',
    message: 'This invitation was sent to another email address; sign in with the invited address to accept it.',
  },
  ORG_OWNER_MUST_TRANSFER: { status: 'CONFLICT', message: 'The owner cannot leave; transfer the ownership to another member first.' },
  SSO_REQUIRED: {
    status: 'FORBIDDEN',
    message: "Your organization requires you to sign in with its single sign-on; continue with your organization's sign-in.",
  },
  SSO_DOMAIN_TAKEN: { status: 'CONFLICT', message: 'Another organization has already verified this domain.' },
  SSO_DOMAIN_NOT_VERIFIED: {
    status: 'BAD_REQUEST',
    message: 'The verification TXT record was not found; publish it, wait for DNS to update, and try again.',
  },
  SSO_DOMAIN_REFUSED: {
    status: 'BAD_REQUEST',
    message: 'This domain cannot be claimed by an organization (a public email provider or a public suffix).',
  },
  SSO_NO_CONNECTION: {
    status: 'BAD_REQUEST',
    message: 'This organization has no single sign-on connection, or not a verified domain for it.',
  },
  SSO_CONNECTION_IN_USE: {
    status: 'CONFLICT',
    message: 'This organization requires single sign-on through this connection; stop requiring it before deleting the connection.',
  },
  SSO_RESPONSE_INVALID: {
    status: 'UNAUTHORIZED',
    message: "The organization's identity provider sent a sign-in response that could not be accepted; start again.",
  },
  SCIM_TOKEN_LIMIT: {
    status: 'CONFLICT',
    message: 'This organization holds the most SCIM tokens it may; revoke one it no longer uses first.',
  },
  MAIL_UNAVAILABLE: { status: 'SERVICE_UNAVAILABLE', message: 'Email could not be sent; try again shortly.' },
  SERVICE_UNAVAILABLE: { status: 'SERVICE_UNAVAILABLE', message: 'The service is temporarily unavailable.' },
  INTERNAL: { status: 'INTERNAL_SERVER_ERROR', message: 'Something went wrong.' },
} as const satisfies Record<string, { status: IamErrorStatus; message: string }>;

/** The tRPC error codes the catalog maps to (each has a fixed HTTP status). */
export type IamErrorStatus =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TOO_MANY_REQUESTS'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export type IamErrorCode = keyof typeof iamErrors;

/** The HTTP status of each tRPC code the catalog uses (tRPC's own mapping; RFC 9110 §15). */
export const httpStatusOfErrorStatus = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_MANY_REQUESTS: 429,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
} as const satisfies Record<IamErrorStatus, number>;

/** The HTTP status a refusal with this code is sent with, on `/trpc` and on every plain HTTP route. */
export function httpStatusOf(code: IamErrorCode): number {
  return httpStatusOfErrorStatus[iamErrors[code].status];
}

export const iamErrorCodes = Object.keys(iamErrors) as IamErrorCode[];

export function isIamErrorCode(value: unknown): value is IamErrorCode {
  return typeof value === 'string' && Object.hasOwn(iamErrors, value);
}

/** What every error carries in `error.data`, besides tRPC's own `code` and `httpStatus`. */
export interface IamErrorData {
  iamCode: IamErrorCode;
  retryAfterSeconds?: number;
  /** Present on BOT_CHECK_REQUIRED: the ALTCHA challenge to solve (docs/api.md, bot check). */
  botCheck?: BotCheckChallenge;
  /** Present on INVALID_INPUT: which fields failed and why (never the values). */
  issues?: Array<{ path: string; message: string }>;
  /** Present on SSO_REQUIRED (the organization whose single sign-on to start, `sso.authorize`) and EMAIL_MANAGED_BY_ORGANIZATION. */
  organizationId?: string;
}

/** An ALTCHA proof-of-work challenge: find `number` ≤ `maxnumber` with SHA-256(salt + number) = challenge. */
export interface BotCheckChallenge {
  algorithm: 'SHA-256';
  challenge: string;
  salt: string;
  maxnumber: number;
  signature: string;
}
