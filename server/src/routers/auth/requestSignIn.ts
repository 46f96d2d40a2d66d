import { requestSignInInput } from '@iam/shared';
import { requestSignIn as requestEmailSignIn } from '../../modules/auth/passwordless';
import { withBotCheck } from '../../trpc/botCheck';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const requestSignIn = publicProcedure
  .input(requestSignInInput)
  .use(withBotCheck('requestSignIn'))
  // Per IP only: the per-address cap is quiet, inside the flow.
  .use(withLimits((ctx) => [['signInRequestsPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => requestEmailSignIn(ctx.services, input, ctx.client));
