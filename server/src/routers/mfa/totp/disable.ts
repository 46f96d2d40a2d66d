import { totpDisableInput } from '@iam/shared';
import { disableTotp } from '../../../modules/auth/totpChanges';
import { authedProcedure } from '../../../trpc/procedures';
import { enforceLimits } from '../../../trpc/rateLimit';

/** Turns TOTP off: a step-up token for `totp_disable` and a fresh TOTP or backup code. */
export const disable = authedProcedure
  .input(totpDisableInput)
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [
      ['codesPerIp', ctx.client.ip],
      ['mfaChangesPerUser', ctx.auth.userId],
    ]);
    return next();
  })
  .mutation(({ ctx, input }) =>
    disableTotp(
      ctx.services,
      { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, code: input.code, stepUpToken: input.stepUpToken },
      ctx.client,
    ),
  );
