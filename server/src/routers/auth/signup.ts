import { nameSchema, signupInput } from '@iam/shared';
import { signup as signupUser } from '../../modules/auth/signup';
import { normalizeEmail } from '../../modules/users/email';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

export const signup = publicProcedure
  .input(signupInput.extend({ name: safeText(nameSchema).optional() }))
  .use(async ({ ctx, input, next }) => {
    await enforceLimits(ctx, [
      ['signupPerIp', ctx.client.ip],
      ['signupPerEmail', normalizeEmail(input.email)],
    ]);
    return next();
  })
  .mutation(({ ctx, input }) => signupUser(ctx.services, input, ctx.client));
