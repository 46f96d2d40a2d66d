import { resetPasswordInput } from '@iam/shared';
import { resetPassword as reset } from '../../modules/auth/passwordReset';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const resetPassword = publicProcedure
  .input(resetPasswordInput)
  .use(withLimits((ctx) => [['linksPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => reset(ctx.services, input, ctx.client));
