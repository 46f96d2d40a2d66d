import { oauthLinkInput } from '@iam/shared';
import { linkWithToken } from '../../modules/auth/oauthAccounts';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const link = authedProcedure
  .input(oauthLinkInput)
  .use(withLimits<AuthedContext>((ctx) => [['oauthPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => linkWithToken(ctx.services, { linkToken: input.linkToken, userId: ctx.auth.userId }, ctx.client));
