import { completeSignIn } from '../../modules/auth/signIn';
import { IamError, isIamError } from '../../modules/errors/iamError';
import { findUserById } from '../../modules/users/users';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

/** Rotates the refresh cookie and issues a new access token; any failure ends the session's cookies. */
export const refresh = publicProcedure
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['refreshPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(async ({ ctx }) => {
    const presented = ctx.cookies.get('refreshToken');
    try {
      if (!presented || presented.length > 128) throw new IamError('REFRESH_TOKEN_INVALID');
      const rotated = await ctx.services.sessions.rotate(presented, ctx.client);
      const user = await findUserById(ctx.services.db, rotated.userId);
      if (!user) throw new IamError('REFRESH_TOKEN_INVALID');
      const signedIn = await completeSignIn(ctx.services, user, {
        sessionId: rotated.sessionId,
        refreshToken: rotated.refreshToken,
        expiresAt: rotated.expiresAt,
      });
      ctx.services.metrics.refreshes.inc({ outcome: 'rotated' });
      return respondSignedIn(ctx, signedIn);
    } catch (error) {
      if (isIamError(error)) {
        ctx.services.metrics.refreshes.inc({ outcome: error.code === 'REFRESH_TOKEN_REUSED' ? 'reused' : 'invalid' });
        ctx.cookies.clearSession();
      }
      throw error;
    }
  });
