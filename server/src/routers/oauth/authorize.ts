import { oauthAuthorizeInput } from '@iam/shared';
import { beginOAuth } from '../../modules/auth/oauthFlow';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const authorize = publicProcedure
  .input(oauthAuthorizeInput)
  .use(withLimits((ctx) => [['oauthPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => beginOAuth(ctx.services, input, ctx.client));
