import { oauthUnlinkInput } from '@iam/shared';
import { unlinkProvider } from '../../modules/auth/oauthAccounts';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const unlink = authedProcedure
  .input(oauthUnlinkInput)
  .use(withLimits<AuthedContext>((ctx) => [['oauthPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => unlinkProvider(ctx.services, { userId: ctx.auth.userId, provider: input.provider }, ctx.client));
