import { signInWithLinkInput } from '@iam/shared';
import { signInWithEmail } from '../../modules/auth/passwordless';
import { respondSignInResult } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const signInWithLink = publicProcedure
  .input(signInWithLinkInput)
  .use(withLimits((ctx) => [['linksPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const result = await signInWithEmail(ctx.services, input, ctx.client);
    return respondSignInResult(ctx, result);
  });
