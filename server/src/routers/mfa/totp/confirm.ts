import { totpConfirmInput } from '@iam/shared';
import { confirmTotp } from '../../../modules/auth/totpChanges';
import { authedProcedure } from '../../../trpc/procedures';
import { enforceLimits } from '../../../trpc/rateLimit';

/** Confirms the pending enrolment with a code from the app; returns the backup codes, shown once. */
export const confirm = authedProcedure
  .input(totpConfirmInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [
      ['codesPerIp', ctx.client.ip],
      ['mfaChangesPerUser', ctx.auth.userId],
    ]);
    return next();
  })
  .mutation(({ ctx, input }) =>
    confirmTotp(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, code: input.code }, ctx.client),
  );
