import { authedProcedure } from '../../../trpc/procedures';
import { enforceLimits } from '../../../trpc/rateLimit';

/** Starts a TOTP enrolment: the secret and its `otpauth://` URI (for a QR code). Pending until confirmed. */
export const begin = authedProcedure
  .use(async ({ ctx, next }) => {
    await enforceLimits(ctx, [['mfaChangesPerUser', ctx.auth.userId]]);
    return next();
  })
  .mutation(({ ctx }) => ctx.services.mfa.beginTotp(ctx.auth.userId));
