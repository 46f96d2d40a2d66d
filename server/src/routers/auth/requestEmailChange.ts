import { requestEmailChangeInput } from '@iam/shared';
import { requestEmailChange as requestChange } from '../../modules/auth/emailChange';
import { authedProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const requestEmailChange = authedProcedure
  .input(requestEmailChangeInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['emailChangePerUser', ctx.auth.userId]]);
    return next();
  })
  .mutation(({ ctx, input }) =>
    requestChange(
      ctx.services,
      { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, newEmail: input.newEmail, stepUpToken: input.stepUpToken },
      ctx.client,
    ),
  );
