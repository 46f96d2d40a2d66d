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
