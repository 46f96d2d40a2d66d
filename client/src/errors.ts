import type { IamErrorCode, IamErrorData } from '@iam/shared';
import { TRPCClientError } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './router';

export type IamClientError = TRPCClientError<AppRouter> & { data: IamErrorData & { code: string; httpStatus: number } };

/** Narrows an error from any call to a service error, optionally of one catalog code. */
export function isIamError(error: unknown, code?: IamErrorCode): error is IamClientError {
  if (!(error instanceof TRPCClientError)) return false;
  const data = error.data as Partial<IamErrorData> | undefined;
  if (typeof data?.iamCode !== 'string') return false;
  return code === undefined || data.iamCode === code;
}

/** A refresh's `Challenge` (`status: 'mfa_required'`): proof is needed before the session continues. */
export type RefreshChallenge = Extract<inferRouterOutputs<AppRouter>['session']['refresh'], { status: 'mfa_required' }>;

/**
 * What a call rejects with when its access token expired and the refresh that would have renewed
 * it answered a challenge: complete `challenge` (`mfa.verify` or the emailed link), and the
 * session goes on with the tokens that completion returns.
 */
export class ChallengeRequiredError extends Error {
  override readonly name = 'ChallengeRequiredError';
  constructor(readonly challenge: RefreshChallenge) {
    super('The session needs a confirmation before it can continue.');
  }
}

/** The challenge a call was refused for (the call's error, or its cause), or null. */
export function refreshChallengeOf(error: unknown): RefreshChallenge | null {
  if (error instanceof ChallengeRequiredError) return error.challenge;
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof ChallengeRequiredError ? cause.challenge : null;
}

/** Whether a call was refused because its session needs a challenge completed first. */
export function isChallengeRequired(error: unknown): boolean {
  return refreshChallengeOf(error) !== null;
}

export function iamCodeOf(error: unknown): IamErrorCode | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const code = (error.data as Partial<IamErrorData> | undefined)?.iamCode;
  return typeof code === 'string' ? code : undefined;
}
