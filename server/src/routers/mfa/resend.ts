import { challengeIdInput } from '@iam/shared';
import { resendChallenge } from '../../modules/auth/completeChallenge';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const resend = publicProcedure
  .input(challengeIdInput)
  .use(withLimits((ctx) => [['resendsPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => resendChallenge(ctx.services, input.challengeId, ctx.client));
