import type { ForwardedClient } from '@iam/shared';
import type { SignedIn } from '../../modules/auth/signIn';
import { randomToken } from '../../modules/crypto/random';
import { type ClientInfo, forwardedClientInfo } from '../../modules/devices/clientInfo';
import { IamError } from '../../modules/errors/iamError';
import { assertIpNotBlocked } from '../../modules/rateLimit/guards';
import type { PublicUser } from '../../modules/users/publicUser';
import type { Context } from '../../trpc/context';

/** Device canaries are 256 bits from a CSPRNG, like the `iam_cid` cookie. */
const canaryBytes = 32;

/**
 * The browser a BFF signs in, as the context of the call: `client` becomes the forwarded one
 * (so bot checks, rate limits, risk checks and the audit trail judge the browser, not the BFF),
 * with the device canary the BFF keeps for it, or a new one (`canaryIsNew`, as for a browser's
 * first contact) that the answer hands back as `canaryId`. A blocked browser address is refused
 * as a direct call from it would be.
 */
export async function forwardedContext(ctx: Context, forwarded: ForwardedClient): Promise<{ client: ClientInfo; canaryId: string }> {
  const canaryId = forwarded.canaryId ?? randomToken(canaryBytes);
  const info = forwardedClientInfo({ ...forwarded, canaryId });
  if (!info) throw new IamError('INVALID_INPUT', { message: 'The client address is not an IP address.' });
  const client: ClientInfo = { ...info, canaryIsNew: forwarded.canaryId === undefined };
  await assertIpNotBlocked(ctx.services.limits, client.ip);
  return { client, canaryId };
}

/** `AuthResult` with what a BFF keeps for the browser: the refresh token, its expiry and the device canary. */
export interface BffAuthResult {
  status: 'authenticated';
  user: PublicUser;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  canaryId: string;
}

/** A completed sign-in as a BFF receives it: the tokens in the body, never in a cookie. */
export function bffSignedIn(signedIn: SignedIn, canaryId: string): BffAuthResult {
  return {
    status: 'authenticated',
    user: signedIn.user,
    accessToken: signedIn.accessToken,
    accessTokenExpiresAt: signedIn.accessTokenExpiresAt,
    refreshToken: signedIn.refreshToken,
    refreshTokenExpiresAt: signedIn.sessionExpiresAt,
    canaryId,
  };
}

/** A sign-in's answer to a BFF: tokens when it completed, anything else (a challenge…) as it is; `canaryId` in every case. */
export function bffSignInResult<T extends { status: string }>(
  result: T | SignedIn,
  canaryId: string,
): BffAuthResult | (Exclude<T, { status: 'authenticated' }> & { canaryId: string }) {
  return result.status === 'authenticated'
    ? bffSignedIn(result as SignedIn, canaryId)
    : { ...(result as Exclude<T, { status: 'authenticated' }>), canaryId };
}
