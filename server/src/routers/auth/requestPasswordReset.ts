import { requestPasswordResetInput } from '@iam/shared';
import { requestPasswordReset as requestReset } from '../../modules/auth/passwordReset';
import { withBotCheck } from '../../trpc/botCheck';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const requestPasswordReset = publicProcedure
  .input(requestPasswordResetInput)
  .use(withBotCheck('requestPasswordReset'))
  .use(withLimits((ctx) => [['passwordResetPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => requestReset(ctx.services, input, ctx.client));
