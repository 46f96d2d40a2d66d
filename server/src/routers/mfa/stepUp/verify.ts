import { challengeCodeInput } from '@iam/shared';
import { verifyStepUp } from '../../../modules/mfa/stepUp';
import { authedProcedure } from '../../../trpc/procedures';
import { enforceLimits } from '../../../trpc/rateLimit';

/** Answers this session's step-up challenge: a single-use token for its action, valid 5 minutes. */
export const verify = authedProcedure
  .input(challengeCodeInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['codesPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(({ ctx, input }) =>
    verifyStepUp(
      ctx.services,
      { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, challengeId: input.challengeId, code: input.code },
      ctx.client,
    ),
  );
