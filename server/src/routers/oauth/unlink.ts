import { oauthUnlinkInput } from '@iam/shared';
import { unlinkProvider } from '../../modules/oauth/accounts';
import { authedProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const unlink = authedProcedure
  .input(oauthUnlinkInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['oauthPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) => unlinkProvider(ctx.services, { userId: ctx.auth.userId, provider: input.provider }, ctx.client));
