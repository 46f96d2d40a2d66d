import { changePasswordInput } from '@iam/shared';
import { changePassword as change } from '../../modules/auth/changePassword';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const changePassword = authedProcedure
  .input(changePasswordInput)
  .use(withLimits<AuthedContext>((ctx) => [['passwordChangePerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) => change(ctx.services, { ...input, userId: ctx.auth.userId, sessionId: ctx.auth.sessionId }, ctx.client));
