import { resetPasswordInput } from '@iam/shared';
import { resetPassword as reset } from '../../modules/auth/passwordReset';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const resetPassword = publicProcedure
  .input(resetPasswordInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['linksPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) => reset(ctx.services, input, ctx.client));
