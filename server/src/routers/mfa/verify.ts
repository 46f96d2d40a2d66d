import { challengeAnswerInput } from '@iam/shared';
import { completeLoginChallenge } from '../../modules/auth/completeChallenge';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const verify = publicProcedure
  .input(challengeAnswerInput)
  .use(withLimits((ctx) => [['codesPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => respondSignedIn(ctx, await completeLoginChallenge(ctx.services, input, ctx.client)));
