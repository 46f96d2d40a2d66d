import { type AuthedContext, authedProcedure } from '../../../trpc/procedures';
import { withLimits } from '../../../trpc/rateLimit';

/** Starts a TOTP enrolment: the secret and its `otpauth://` URI (for a QR code). Pending until confirmed. */
export const begin = authedProcedure
  .use(withLimits<AuthedContext>((ctx) => [['mfaChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx }) => ctx.services.mfa.beginTotp(ctx.auth.userId));
