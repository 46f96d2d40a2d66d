import { passkeyNameSchema, passkeyRegisterInput } from '@iam/shared';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { registerPasskey } from '../../modules/auth/passkeyFlows';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

export const register = authedProcedure
  .input(passkeyRegisterInput.extend({ name: safeText(passkeyNameSchema).optional() }))
  .use(withLimits<AuthedContext>((ctx) => [['mfaChangesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) =>
    registerPasskey(
      ctx.services,
      {
        userId: ctx.auth.userId,
        sessionId: ctx.auth.sessionId,
        response: input.response as unknown as RegistrationResponseJSON,
        name: input.name,
      },
      ctx.client,
    ),
  );
