import type { AppRouter } from '@iam/server';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

export { type BffClient, type BffClientOptions, createBffClient } from './bff';
export { solveBotCheck } from './botCheck';
export { createIamClient, type IamClient, type IamClientOptions, type SessionEndReason } from './client';
export { type CookieJar, createCookieJar, withCookieJar } from './cookieJar';
export {
  ChallengeRequiredError,
  type IamClientError,
  iamCodeOf,
  isChallengeRequired,
  isIamError,
  type RefreshChallenge,
  refreshChallengeOf,
} from './errors';
export {
  passkeySupport,
  registerPasskey,
  signInWithPasskey,
  stepUpWithPasskey,
  verifyChallengeWithPasskey,
} from './passkeys';
export { type AccessTokenStore, createAccessTokenStore } from './session';
export { canonicalRequest, createNonce, type SignedHeaders, type SignRequestInput, signRequest } from './signing';
export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type { BotCheckChallenge, IamErrorCode } from '@iam/shared';
