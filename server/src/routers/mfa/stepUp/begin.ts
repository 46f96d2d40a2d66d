import { stepUpBeginInput } from '@iam/shared';
import { beginStepUp } from '../../../modules/auth/stepUp';
import { type AuthedContext, authedProcedure } from '../../../trpc/procedures';
import { withLimits } from '../../../trpc/rateLimit';

/** Opens a step-up challenge for an action in this session (TOTP when enrolled, else an emailed code). */
export const begin = authedProcedure
  .input(stepUpBeginInput)
  .use(withLimits<AuthedContext>((ctx) => [['stepUpPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    beginStepUp(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, action: input.action }, ctx.client),
  );
