import { oauthAuthorizeInput } from '@iam/shared';
import { beginOAuth } from '../../modules/oauth/flow';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const authorize = publicProcedure
  .input(oauthAuthorizeInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['oauthPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) => beginOAuth(ctx.services, input, ctx.client));
