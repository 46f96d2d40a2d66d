import { signInWithCodeInput } from '@iam/shared';
import { signInWithEmail } from '../../modules/auth/passwordless';
import { respondSignInResult } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const signInWithCode = publicProcedure
  .input(signInWithCodeInput)
  .use(withLimits((ctx) => [['codesPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const result = await signInWithEmail(ctx.services, input, ctx.client);
    return respondSignInResult(ctx, result);
  });
