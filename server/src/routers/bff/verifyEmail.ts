import { bffVerifyEmailInput } from '@iam/shared';
import { verifyEmail as verifyUserEmail } from '../../modules/auth/verifyEmail';
import type { Context } from '../../trpc/context';
import { hmacProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { bffSignedIn, forwardedContext } from './forwarded';

/**
 * `auth.verifyEmail` on behalf of the browser a BFF serves. The forwarded `canaryId` is the
 * device: the password chosen at sign-up applies only with the canary that signed up (else
 * `PASSWORD_REQUIRED`, answered with the verifier's own `password`).
 */
export const verifyEmail = hmacProcedure
  .input(bffVerifyEmailInput)
  .use(async ({ ctx, input, next }) => next({ ctx: await forwardedContext(ctx, input.client) }))
  .use(withLimits<Context, object>((ctx, input) => [['token' in input ? 'linksPerIp' : 'codesPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const { client: _client, ...answer } = input;
    return bffSignedIn(await verifyUserEmail(ctx.services, answer, ctx.client), ctx.canaryId);
  });
