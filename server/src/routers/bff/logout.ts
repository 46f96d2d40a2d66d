import { bffLogoutInput } from '@iam/shared';
import { logout as logoutSession } from '../../modules/auth/logout';
import { forwardedClientInfo } from '../../modules/devices/clientInfo';
import { hmacProcedure } from '../../trpc/procedures';

/** Ends the session named by the refresh token and/or the access token; idempotent. */
export const logout = hmacProcedure.input(bffLogoutInput).mutation(({ ctx, input }) =>
  logoutSession(
    ctx.services,
    { accessToken: input.accessToken ?? null, refreshToken: input.refreshToken ?? null },
    // The audit trail names the browser when the BFF forwards it, else the BFF itself.
    (input.client && forwardedClientInfo(input.client)) || ctx.client,
  ),
);
