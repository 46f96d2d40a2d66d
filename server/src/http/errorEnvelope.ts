import { httpStatusOf, type IamErrorCode, iamErrors } from '@iam/shared';
import type { Response } from 'express';

/** What a refusal may add to the envelope (`/api/v1` carries what `/trpc` puts in `error.data`). */
export interface ErrorEnvelopeDetails {
  retryAfterSeconds?: number;
  issues?: Array<{ path: string; message: string }>;
  botCheck?: unknown;
}

/**
 * The one JSON error body of the plain HTTP routes and `/api/v1`:
 * `{ error: { code, iamCode, message, data: { iamCode } } }`. `code` names the status class as
 * tRPC does (`BAD_REQUEST`, `UNAUTHORIZED`, …); `data` mirrors a tRPC error's, so a client
 * reads both the same way. The status comes from the catalog unless the caller knows better (a
 * body too large is 413, still `INVALID_INPUT`). Never a stack trace or internal detail
 * (OWASP ASVS 4.0 V7.4.1).
 */
export function sendJsonError(
  res: Response,
  iamCode: IamErrorCode,
  options: { status?: number; message?: string; code?: string; details?: ErrorEnvelopeDetails } = {},
): void {
  const details = options.details ?? {};
  res.status(options.status ?? httpStatusOf(iamCode)).json({
    error: {
      code: options.code ?? iamErrors[iamCode].status,
      iamCode,
      message: options.message ?? iamErrors[iamCode].message,
      ...details,
      data: { iamCode, ...details },
    },
  });
}
