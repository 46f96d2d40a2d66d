import { type BotCheckChallenge, type IamErrorCode, iamErrors } from '@iam/shared';

/**
 * The one error type domain code throws. It carries a catalog code; the tRPC layer maps it
 * to a status and puts the code on `error.data.iamCode`. The optional `cause` is logged,
 * never sent.
 */
export class IamError extends Error {
  readonly code: IamErrorCode;
  readonly retryAfterSeconds: number | undefined;
  /** BOT_CHECK_REQUIRED: the challenge to solve, sent as `error.data.botCheck`. */
  readonly botCheck: BotCheckChallenge | undefined;
  /** SSO_REQUIRED: the organization whose single sign-on to use, sent as `error.data.organizationId`. */
  readonly organizationId: string | undefined;
  /** SSO_RESPONSE_INVALID: which check the SAML response failed (`reason` of the callback redirect and the audit row). */
  readonly reason: string | undefined;

  constructor(
    code: IamErrorCode,
    options: {
      cause?: unknown;
      retryAfterSeconds?: number;
      message?: string;
      botCheck?: BotCheckChallenge;
      organizationId?: string;
      reason?: string;
    } = {},
  ) {
    super(options.message ?? iamErrors[code].message, { cause: options.cause });
    this.name = 'IamError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.botCheck = options.botCheck;
    this.organizationId = options.organizationId;
    this.reason = options.reason;
  }
}

export function isIamError(value: unknown, code?: IamErrorCode): value is IamError {
  return value instanceof IamError && (code === undefined || value.code === code);
}
