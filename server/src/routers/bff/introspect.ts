import { bffIntrospectInput } from '@iam/shared';
import { introspectAccessToken } from '../../modules/tokens/introspection';
import { hmacProcedure } from '../../trpc/procedures';

/** Whether a user's access token is active, with its claims; a bad token is an answer, never an error. */
export const introspect = hmacProcedure
  .input(bffIntrospectInput)
  .mutation(({ ctx, input }) => introspectAccessToken(ctx.services, input.accessToken));
