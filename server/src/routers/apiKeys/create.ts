import { apiKeyCreateInput, apiKeyNameSchema } from '@iam/shared';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

/** A new key: `{ id, key }`, the key shown this once (only its hash is kept). */
export const create = authedProcedure
  // Markup in the name is refused and counts as a strike, as in every free-text field.
  .input(apiKeyCreateInput.extend({ name: safeText(apiKeyNameSchema) }))
  .use(withLimits<AuthedContext>((ctx) => [['apiKeyChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    ctx.services.apiKeys.create({ userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, client: ctx.client }, input),
  );
