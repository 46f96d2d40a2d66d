import { oauthCallbackInput } from '@iam/shared';
import { oauthCallback } from '../../modules/auth/oauthFlow';
import { respondSignInResult } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const callback = publicProcedure
  .input(oauthCallbackInput)
  .use(withLimits((ctx) => [['oauthPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const result = await oauthCallback(ctx.services, input, ctx.client);
    return respondSignInResult(ctx, result);
  });
