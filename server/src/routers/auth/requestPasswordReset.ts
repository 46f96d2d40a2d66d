import { requestPasswordResetInput } from '@iam/shared';
import { requestPasswordReset as requestReset } from '../../modules/auth/passwordReset';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const requestPasswordReset = publicProcedure
  .input(requestPasswordResetInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['passwordResetPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) => requestReset(ctx.services, input, ctx.client));
