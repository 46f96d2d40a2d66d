import { logout as logoutSession } from '../../modules/auth/logout';
import { publicProcedure } from '../../trpc/procedures';

/** Works with a Bearer token, the refresh cookie or both; always clears the session cookies. */
export const logout = publicProcedure.mutation(async ({ ctx }) => {
  const result = await logoutSession(
    ctx.services,
    { accessToken: ctx.bearerToken, refreshToken: ctx.cookies.get('refreshToken') },
    ctx.client,
  );
  ctx.cookies.clearSession();
  return result;
});
