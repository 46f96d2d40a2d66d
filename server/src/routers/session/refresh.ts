import { refreshSession } from '../../modules/auth/refreshSession';
import { isIamError } from '../../modules/errors/iamError';
import { respondSignInResult } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/**
 * A refusal that ends nothing: the same refresh token may succeed on a retry (a mail that could
 * not be sent, a conflict that outlived its retries), so its cookies stay.
 */
const transientCodes = new Set(['SERVICE_UNAVAILABLE', 'MAIL_UNAVAILABLE']);

/**
 * Rotates the refresh cookie and issues a new access token; a refusal of the token (missing,
 * unknown, expired, revoked, reused) clears the session's cookies, a transient one does not.
 */
export const refresh = publicProcedure.use(withLimits((ctx) => [['refreshPerIp', ctx.client.ip]])).mutation(async ({ ctx }) => {
  try {
    const result = await refreshSession(ctx.services, ctx.cookies.get('refreshToken'), ctx.client);
    // A challenge rotates nothing: the cookies stay as they are.
    return respondSignInResult(ctx, result);
  } catch (error) {
    if (isIamError(error) && !transientCodes.has(error.code)) ctx.cookies.clearSession();
    throw error;
  }
});
