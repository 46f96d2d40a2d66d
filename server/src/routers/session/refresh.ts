import { refreshSession } from '../../modules/auth/refreshSession';
import { isIamError } from '../../modules/errors/iamError';
import { respondSignInResult } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** Rotates the refresh cookie and issues a new access token; any refusal clears the session's cookies. */
export const refresh = publicProcedure.use(withLimits((ctx) => [['refreshPerIp', ctx.client.ip]])).mutation(async ({ ctx }) => {
  try {
    const result = await refreshSession(ctx.services, ctx.cookies.get('refreshToken'), ctx.client);
    // A challenge rotates nothing: the cookies stay as they are.
    return respondSignInResult(ctx, result);
  } catch (error) {
    if (isIamError(error)) ctx.cookies.clearSession();
    throw error;
  }
});
