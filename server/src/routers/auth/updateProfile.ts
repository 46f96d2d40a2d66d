import { nameSchema, updateProfileInput } from '@iam/shared';
import { updateProfile as updateAccountProfile } from '../../modules/auth/account';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

export const updateProfile = authedProcedure
  // Markup in the name is refused and counts as a strike, as at sign-up.
  .input(updateProfileInput.extend({ name: safeText(nameSchema).nullable() }))
  .use(withLimits<AuthedContext>((ctx) => [['accountChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    updateAccountProfile(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, name: input.name }, ctx.client),
  );
