import { totpDisableInput } from '@iam/shared';
import { disableTotp } from '../../../modules/auth/totpChanges';
import { type AuthedContext, authedProcedure } from '../../../trpc/procedures';
import { withLimits } from '../../../trpc/rateLimit';

/** Turns TOTP off: a step-up token for `totp_disable` and a fresh TOTP or backup code. */
export const disable = authedProcedure
  .input(totpDisableInput)
  .use(
    withLimits<AuthedContext>((ctx) => [
      ['codesPerIp', ctx.client.ip],
      ['mfaChangesPerUser', ctx.auth.userId],
    ]),
  )
  .mutation(({ ctx, input }) =>
    disableTotp(
      ctx.services,
      { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, code: input.code, stepUpToken: input.stepUpToken },
      ctx.client,
    ),
  );
