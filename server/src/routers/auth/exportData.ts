import { exportData as exportAccountData } from '../../modules/auth/account';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const exportData = authedProcedure
  .use(withLimits<AuthedContext>((ctx) => [['accountChangesPerUser', ctx.auth.userId]]))
  .query(({ ctx }) => exportAccountData(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId }, ctx.client));
