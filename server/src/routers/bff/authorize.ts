import { bffAuthorizeInput } from '@iam/shared';
import { authorizeAccessToken } from '../../modules/tokens/introspection';
import { hmacProcedure } from '../../trpc/procedures';

/** Whether a user's access token is active and holds `all` (default) or `any` of the roles. */
export const authorize = hmacProcedure
  .input(bffAuthorizeInput)
  .mutation(({ ctx, input }) => authorizeAccessToken(ctx.services, input.accessToken, { roles: input.roles, mode: input.mode ?? 'all' }));
