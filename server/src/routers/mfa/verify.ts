import { challengeCodeInput } from '@iam/shared';
import { completeLoginChallenge } from '../../modules/auth/completeChallenge';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const verify = publicProcedure
  .input(challengeCodeInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['codesPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(async ({ ctx, input }) => respondSignedIn(ctx, await completeLoginChallenge(ctx.services, input, ctx.client)));
