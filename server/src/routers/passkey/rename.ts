import { passkeyNameSchema, passkeyRenameInput } from '@iam/shared';
import { IamError } from '../../modules/errors/iamError';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

export const rename = authedProcedure
  .input(passkeyRenameInput.extend({ name: safeText(passkeyNameSchema) }))
  .use(withLimits<AuthedContext>((ctx) => [['mfaChangesPerUser', ctx.auth.userId]]))
  .mutation(async ({ ctx, input }) => {
    if (!(await ctx.services.passkeys.rename(ctx.auth.userId, input.id, input.name))) throw new IamError('NOT_FOUND');
    return { status: 'renamed' as const };
  });
