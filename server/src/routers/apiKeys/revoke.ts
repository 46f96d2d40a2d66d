import { apiKeyRevokeInput } from '@iam/shared';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** Revokes one of the caller's keys at once; another user's key is `NOT_FOUND`. */
export const revoke = authedProcedure
  .input(apiKeyRevokeInput)
  .use(withLimits<AuthedContext>((ctx) => [['apiKeyChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    ctx.services.apiKeys.revoke({ userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, client: ctx.client }, input.id),
  );
