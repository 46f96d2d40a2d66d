import { stepUpBeginInput } from '@iam/shared';
import { beginStepUp } from '../../../modules/mfa/stepUp';
import { authedProcedure } from '../../../trpc/procedures';
import { enforceLimits } from '../../../trpc/rateLimit';

/** Opens a step-up challenge for an action in this session (TOTP when enrolled, else an emailed code). */
export const begin = authedProcedure
  .input(stepUpBeginInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['stepUpPerUser', ctx.auth.userId]]);
    return next();
  })
  .mutation(({ ctx, input }) =>
    beginStepUp(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, action: input.action }, ctx.client),
  );
