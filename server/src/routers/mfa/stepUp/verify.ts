import { challengeAnswerInput } from '@iam/shared';
import { verifyStepUp } from '../../../modules/auth/stepUp';
import { type AuthedContext, authedProcedure } from '../../../trpc/procedures';
import { withLimits } from '../../../trpc/rateLimit';

/** Answers this session's step-up challenge: a single-use token for its action, valid 5 minutes. */
export const verify = authedProcedure
  .input(challengeAnswerInput)
  .use(withLimits<AuthedContext>((ctx) => [['codesPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) =>
    verifyStepUp(ctx.services, { ...input, userId: ctx.auth.userId, sessionId: ctx.auth.sessionId }, ctx.client),
  );
