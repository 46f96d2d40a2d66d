export type { BotCheckChallenge, IamErrorCode } from '@iam/shared';
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
export type { AppRouter, RouterInputs, RouterOutputs } from './router';
export { type AccessTokenStore, createAccessTokenStore } from './session';
export { canonicalRequest, createNonce, type SignedHeaders, type SignRequestInput, signRequest } from './signing';
