import { type IamErrorCode, type IamErrorData, iamErrors } from '@iam/shared';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { IamError } from '../modules/errors/iamError';

/** The catalog code for any error that reaches the wire. */
export function iamCodeOf(error: TRPCError): IamErrorCode {
  if (error.cause instanceof IamError) return error.cause.code;
  switch (error.code) {
    case 'BAD_REQUEST':
    case 'PARSE_ERROR':
    case 'PAYLOAD_TOO_LARGE':
    case 'METHOD_NOT_SUPPORTED':
    case 'UNSUPPORTED_MEDIA_TYPE':
    case 'UNPROCESSABLE_CONTENT':
      return 'INVALID_INPUT';
    case 'NOT_FOUND':
      return 'NOT_FOUND';
    case 'UNAUTHORIZED':
      return 'UNAUTHENTICATED';
    case 'FORBIDDEN':
      return 'FORBIDDEN';
    case 'TOO_MANY_REQUESTS':
      return 'RATE_LIMITED';
    case 'SERVICE_UNAVAILABLE':
      return 'SERVICE_UNAVAILABLE';
    default:
      return 'INTERNAL';
  }
}

/** Turns a domain error into the tRPC error of its catalog status; others pass through. */
export function toTrpcError(error: TRPCError): TRPCError {
  return error.cause instanceof IamError ? trpcErrorOf(error.cause) : error;
}

/** The tRPC error of a domain error: the status its catalog entry names, the error as its cause. */
export function trpcErrorOf(error: IamError): TRPCError {
  return new TRPCError({ code: iamErrors[error.code].status as TRPC_ERROR_CODE_KEY, message: error.message, cause: error });
}

/**
 * How every error looks on the wire: the catalog code, a human message that reveals
 * nothing internal, zod issues (paths and messages, never values) for bad input, and no
 * stack trace in any mode (OWASP ASVS 4.0 V7.4.1).
 */
export function formatError<TShape extends { message: string; code: number; data: { code: string; httpStatus: number; path?: string } }>(
  shape: TShape,
  error: TRPCError,
): { message: string; code: number; data: IamErrorData & { code: string; httpStatus: number; path?: string } } {
  const iamCode = iamCodeOf(error);
  const data: IamErrorData & { code: string; httpStatus: number; path?: string } = {
    code: shape.data.code,
    httpStatus: shape.data.httpStatus,
    iamCode,
  };
  if (shape.data.path !== undefined) data.path = shape.data.path;
  if (error.cause instanceof IamError && error.cause.retryAfterSeconds !== undefined)
    data.retryAfterSeconds = error.cause.retryAfterSeconds;
  if (error.cause instanceof IamError && error.cause.botCheck) data.botCheck = error.cause.botCheck;
  if (error.cause instanceof IamError && error.cause.organizationId) data.organizationId = error.cause.organizationId;
  let message: string = iamErrors[iamCode].message;
  if (error.cause instanceof IamError) message = error.cause.message;
  if (error.cause instanceof ZodError) {
    data.issues = error.cause.issues.slice(0, 20).map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  }
  return { message, code: shape.code, data };
}

/** Seconds a client should wait, for the `Retry-After` header. */
export function retryAfterOf(errors: readonly TRPCError[]): number | undefined {
  let longest: number | undefined;
  for (const error of errors) {
    const seconds = error.cause instanceof IamError ? error.cause.retryAfterSeconds : undefined;
    if (seconds !== undefined && (longest === undefined || seconds > longest)) longest = seconds;
  }
  return longest;
}

/** Unexpected errors already logged by the procedure that met them, so the adapter logs each once. */
const logged = new WeakSet<object>();

export function markLogged(error: unknown): void {
  if (typeof error === 'object' && error !== null) logged.add(error);
}

export function wasLogged(error: unknown): boolean {
  return typeof error === 'object' && error !== null && logged.has(error);
}
