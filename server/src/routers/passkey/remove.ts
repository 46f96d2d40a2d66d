import { passkeyRemoveInput } from '@iam/shared';
import { removePasskey } from '../../modules/auth/passkeyFlows';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const remove = authedProcedure
  .input(passkeyRemoveInput)
  .use(withLimits<AuthedContext>((ctx) => [['mfaChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    removePasskey(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, ...input }, ctx.client),
  );
