import { challengeIdInput } from '@iam/shared';
import { resendChallenge } from '../../modules/auth/completeChallenge';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const resend = publicProcedure
  .input(challengeIdInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['resendsPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) => resendChallenge(ctx.services, input.challengeId, ctx.client));
