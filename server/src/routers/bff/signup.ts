import { bffSignupInput, nameSchema } from '@iam/shared';
import { signup as signupUser } from '../../modules/auth/signup';
import { withBotCheck } from '../../trpc/botCheck';
import type { Context } from '../../trpc/context';
import { hmacProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';
import { forwardedContext } from './forwarded';

/**
 * `auth.signup` on behalf of the browser a BFF serves, judged on the forwarded client. The
 * pending password applies only when the address is verified from the same device: the answer
 * carries the canary (the one the BFF sent, or a new one) to forward to `bff.verifyEmail`.
 */
export const signup = hmacProcedure
  .input(bffSignupInput.extend({ name: safeText(nameSchema).optional() }))
  .use(async ({ ctx, input, next }) => next({ ctx: await forwardedContext(ctx, input.client) }))
  .use(withBotCheck('signup'))
  .use(withLimits<Context, { email: string }>((ctx) => [['signupPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const result = await signupUser(ctx.services, { email: input.email, password: input.password, name: input.name }, ctx.client);
    return { ...result, canaryId: ctx.canaryId };
  });
