import { oauthLinkInput } from '@iam/shared';
import { linkWithToken } from '../../modules/oauth/accounts';
import { authedProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const link = authedProcedure
  .input(oauthLinkInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['oauthPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) => linkWithToken(ctx.services, { linkToken: input.linkToken, userId: ctx.auth.userId }, ctx.client));
