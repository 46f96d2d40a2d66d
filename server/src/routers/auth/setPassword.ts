import { setPasswordInput } from '@iam/shared';
import { setPassword as setAccountPassword } from '../../modules/auth/setPassword';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const setPassword = authedProcedure
  .input(setPasswordInput)
  .use(withLimits<AuthedContext>((ctx) => [['passwordChangePerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    setAccountPassword(ctx.services, { ...input, userId: ctx.auth.userId, sessionId: ctx.auth.sessionId }, ctx.client),
  );
