import { bffRefreshInput } from '@iam/shared';
import { refreshSession } from '../../modules/auth/refreshSession';
import { randomToken } from '../../modules/crypto/random';
import { forwardedClientInfo } from '../../modules/devices/clientInfo';
import { IamError } from '../../modules/errors/iamError';
import { assertIpNotBlocked } from '../../modules/rateLimit/guards';
import { hmacProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

/** Device canaries are 256 bits from a CSPRNG, like the `iam_cid` cookie. */
const canaryBytes = 32;

/**
 * A refresh on behalf of the browser the BFF serves: the same flow as `session.refresh`
 * (rotation, grace window, reuse detection, anomaly checks), judged on the forwarded client.
 * The BFF keeps the rotated refresh token and the device canary (a new one when it sent
 * none), or hands a Challenge to the browser.
 */
export const refresh = hmacProcedure
  .input(bffRefreshInput)
  .use(async ({ ctx, input, next }) => {
    const canaryId = input.client.canaryId ?? randomToken(canaryBytes);
    const client = forwardedClientInfo({ ...input.client, canaryId });
    if (!client) throw new IamError('INVALID_INPUT', { message: 'The client address is not an IP address.' });
    // The limits of a cookie refresh, counted on the browser's address.
    await assertIpNotBlocked(ctx.services.limits, client.ip);
    await enforceLimits(ctx, [['refreshPerIp', client.ip]]);
    return next({ ctx: { forwarded: { client, canaryId } } });
  })
  .mutation(async ({ ctx, input }) => {
    const result = await refreshSession(ctx.services, input.refreshToken, ctx.forwarded.client);
    // A Challenge rotates nothing: the BFF hands it to the browser, keeping the canary.
    if (result.status !== 'authenticated') return { ...result, canaryId: ctx.forwarded.canaryId };
    return {
      status: result.status,
      user: result.user,
      accessToken: result.accessToken,
      accessTokenExpiresAt: result.accessTokenExpiresAt,
      refreshToken: result.refreshToken,
      refreshTokenExpiresAt: result.sessionExpiresAt,
      canaryId: ctx.forwarded.canaryId,
    };
  });
