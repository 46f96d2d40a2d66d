import { changePasswordInput } from '@iam/shared';
import { changePassword as change } from '../../modules/auth/changePassword';
import { authedProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const changePassword = authedProcedure
  .input(changePasswordInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['passwordChangePerUser', ctx.auth.userId]]);
    return next();
  })
  .mutation(({ ctx, input }) => change(ctx.services, { ...input, userId: ctx.auth.userId, sessionId: ctx.auth.sessionId }, ctx.client));
