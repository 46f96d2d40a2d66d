import { nameSchema, signupInput } from '@iam/shared';
import { signup as signupUser } from '../../modules/auth/signup';
import { normalizeEmail } from '../../modules/users/email';
import type { Context } from '../../trpc/context';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

export const signup = publicProcedure
  .input(signupInput.extend({ name: safeText(nameSchema).optional() }))
  .use(
    withLimits<Context, { email: string }>((ctx, input) => [
      ['signupPerIp', ctx.client.ip],
      ['signupPerEmail', normalizeEmail(input.email)],
    ]),
  )
  .mutation(({ ctx, input }) => signupUser(ctx.services, input, ctx.client));
