import { httpStatusOf, type IamErrorCode, iamErrors } from '@iam/shared';
import type { Response } from 'express';

/**
 * The one JSON error body of the plain HTTP routes, shaped like a tRPC error so clients read
 * both the same way: `{ error: { message, data: { iamCode } } }`. The status comes from the
 * catalog unless the caller knows better (a body too large is 413, still `INVALID_INPUT`).
 * Never a stack trace or internal detail (OWASP ASVS 4.0 V7.4.1).
 */
export function sendJsonError(res: Response, iamCode: IamErrorCode, options: { status?: number; message?: string } = {}): void {
  res
    .status(options.status ?? httpStatusOf(iamCode))
    .json({ error: { message: options.message ?? iamErrors[iamCode].message, data: { iamCode } } });
}
