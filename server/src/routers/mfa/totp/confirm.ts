import { totpConfirmInput } from '@iam/shared';
import { confirmTotp } from '../../../modules/auth/totpChanges';
import { type AuthedContext, authedProcedure } from '../../../trpc/procedures';
import { withLimits } from '../../../trpc/rateLimit';

/** Confirms the pending enrolment with a code from the app; returns the backup codes, shown once. */
export const confirm = authedProcedure
  .input(totpConfirmInput)
  .use(
    withLimits<AuthedContext>((ctx) => [
      ['codesPerIp', ctx.client.ip],
      ['mfaChangesPerUser', ctx.auth.userId],
    ]),
  )
  .mutation(({ ctx, input }) =>
    confirmTotp(ctx.services, { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, code: input.code }, ctx.client),
  );
