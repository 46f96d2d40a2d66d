import { requestEmailChangeInput } from '@iam/shared';
import { requestEmailChange as requestChange } from '../../modules/auth/emailChange';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const requestEmailChange = authedProcedure
  .input(requestEmailChangeInput)
  .use(withLimits<AuthedContext>((ctx) => [['emailChangePerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    requestChange(
      ctx.services,
      { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, newEmail: input.newEmail, stepUpToken: input.stepUpToken },
      ctx.client,
    ),
  );
