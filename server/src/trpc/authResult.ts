import type { SignedIn } from '../modules/auth/signIn';
import type { PublicUser } from '../modules/users/publicUser';
import type { Context } from './context';

/** docs/api.md `AuthResult`: the refresh token travels only in its HttpOnly cookie. */
export interface AuthResult {
  status: 'authenticated';
  user: PublicUser;
  accessToken: string;
  accessTokenExpiresAt: Date;
}

export function respondSignedIn(ctx: Context, signedIn: SignedIn): AuthResult {
  ctx.cookies.setSession(signedIn.refreshToken, ctx.services.clock.now(), signedIn.sessionExpiresAt);
  return {
    status: 'authenticated',
    user: signedIn.user,
    accessToken: signedIn.accessToken,
    accessTokenExpiresAt: signedIn.accessTokenExpiresAt,
  };
}

/** A sign-in's answer: tokens (and their cookies) when it completed, anything else (a challenge…) as it is. */
export function respondSignInResult<T extends { status: string }>(
  ctx: Context,
  result: T | SignedIn,
): AuthResult | Exclude<T, { status: 'authenticated' }> {
  return result.status === 'authenticated' ? respondSignedIn(ctx, result as SignedIn) : (result as Exclude<T, { status: 'authenticated' }>);
}
