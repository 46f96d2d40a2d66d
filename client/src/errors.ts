import type { AppRouter } from '@iam/server';
import type { IamErrorCode, IamErrorData } from '@iam/shared';
import { TRPCClientError } from '@trpc/client';

export type IamClientError = TRPCClientError<AppRouter> & { data: IamErrorData & { code: string; httpStatus: number } };

/** Narrows an error from any call to a service error, optionally of one catalog code. */
export function isIamError(error: unknown, code?: IamErrorCode): error is IamClientError {
  if (!(error instanceof TRPCClientError)) return false;
  const data = error.data as Partial<IamErrorData> | undefined;
  if (typeof data?.iamCode !== 'string') return false;
  return code === undefined || data.iamCode === code;
}

export function iamCodeOf(error: unknown): IamErrorCode | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const code = (error.data as Partial<IamErrorData> | undefined)?.iamCode;
  return typeof code === 'string' ? code : undefined;
}
