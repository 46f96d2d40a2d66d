import { passkeyRegistrationOptionsInput } from '@iam/shared';
import { passkeyRegistrationOptions } from '../../modules/auth/passkeyFlows';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const registrationOptions = authedProcedure
  .input(passkeyRegistrationOptionsInput)
  .use(withLimits<AuthedContext>((ctx) => [['mfaChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    passkeyRegistrationOptions(
      ctx.services,
      { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, stepUpToken: input?.stepUpToken },
      ctx.client,
    ),
  );
