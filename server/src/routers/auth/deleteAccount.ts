import { deleteAccountInput } from '@iam/shared';
import { deleteAccount as deleteUserAccount } from '../../modules/auth/account';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const deleteAccount = authedProcedure
  .input(deleteAccountInput)
  .use(withLimits<AuthedContext>((ctx) => [['accountChangesPerUser', ctx.auth.userId]]))
  .mutation(async ({ ctx, input }) => {
    const result = await deleteUserAccount(ctx.services, { ...input, userId: ctx.auth.userId, sessionId: ctx.auth.sessionId }, ctx.client);
    ctx.cookies.clearSession();
    return result;
  });
