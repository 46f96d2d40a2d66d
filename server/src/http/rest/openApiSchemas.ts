import { iamErrorCodes } from '@iam/shared';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const dateTime: JsonSchema = { type: 'string', format: 'date-time' };

const publicUser: JsonSchema = {
  type: 'object',
  description: 'What a client may see of an account.',
  required: ['id', 'email', 'name', 'emailVerified', 'roles', 'mfa', 'disabled', 'createdAt'],
  properties: {
    id: { type: 'string', pattern: '^usr_' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    emailVerified: { type: 'boolean' },
    roles: { type: 'array', items: { type: 'string' } },
    mfa: {
      type: 'object',
      required: ['totp', 'passkeys'],
      properties: { totp: { type: 'boolean' }, passkeys: { type: 'integer', minimum: 0 } },
    },
    disabled: { const: false },
    createdAt: dateTime,
  },
};

const authResult: JsonSchema = {
  type: 'object',
  description: 'A completed sign-in. The refresh token is never in the body: it is set as the HttpOnly `iam_rt` cookie.',
  required: ['status', 'user', 'accessToken', 'accessTokenExpiresAt'],
  properties: {
    status: { const: 'authenticated' },
    user: ref('PublicUser'),
    accessToken: { type: 'string', description: 'A JWT to send as `Authorization: Bearer`.' },
    accessTokenExpiresAt: dateTime,
  },
};

const challenge: JsonSchema = {
  type: 'object',
  description: 'Tokens are withheld until the caller proves more: answer with `mfa.verify` or `mfa.consumeLink`.',
  required: ['status', 'challengeId', 'methods', 'reasons'],
  properties: {
    status: { const: 'mfa_required' },
    challengeId: { type: 'string', pattern: '^chl_' },
    methods: { type: 'array', items: { enum: ['email_otp', 'totp', 'backup_code', 'passkey'] } },
    reasons: { type: 'array', items: { type: 'string' } },
  },
};

const verificationRequired: JsonSchema = {
  type: 'object',
  description: 'A code and a link were mailed to the address; finish with `auth.verifyEmail`.',
  required: ['status', 'challengeId'],
  properties: { status: { const: 'verification_required' }, challengeId: { type: 'string', pattern: '^chl_' } },
};

const signInResult: JsonSchema = {
  description: 'Tokens, a challenge to answer first, or an address to verify first.',
  oneOf: [ref('AuthResult'), ref('Challenge'), ref('VerificationRequired')],
};

/** `{ error: { code, iamCode, message } }`, the body of every refusal (OWASP ASVS 4.0 V7.4.1: no internals). */
const errorEnvelope: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'iamCode', 'message'],
      properties: {
        code: { type: 'string', description: 'The status class, e.g. `BAD_REQUEST`, `UNAUTHORIZED`, `TOO_MANY_REQUESTS`.' },
        iamCode: { enum: iamErrorCodes, description: 'The machine-readable reason; stable, never renamed.' },
        message: { type: 'string', description: 'For people; may change.' },
        retryAfterSeconds: { type: 'integer', minimum: 0, description: 'With `RATE_LIMITED` and `IP_BLOCKED`, as `Retry-After`.' },
        issues: {
          type: 'array',
          description: 'With `INVALID_INPUT`: which fields failed and why (never their values).',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
        botCheck: { type: 'object', description: 'With `BOT_CHECK_REQUIRED`: the proof-of-work challenge to solve.' },
        data: { type: 'object', description: 'The same fields, where a tRPC error has them.' },
      },
    },
  },
};

export const componentSchemas: Record<string, JsonSchema> = {
  ErrorEnvelope: errorEnvelope,
  PublicUser: publicUser,
  AuthResult: authResult,
  Challenge: challenge,
  VerificationRequired: verificationRequired,
  SignInResult: signInResult,
};

export { ref as schemaRef };
