import { passkeySignInInput } from '@iam/shared';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { signInWithPasskey } from '../../modules/auth/passkeyFlows';
import { respondSignInResult } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const signIn = publicProcedure
  .input(passkeySignInInput)
  .use(withLimits((ctx) => [['loginPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const result = await signInWithPasskey(
      ctx.services,
      { ceremonyId: input.ceremonyId, response: input.response as unknown as AuthenticationResponseJSON },
      ctx.client,
    );
    return respondSignInResult(ctx, result);
  });
