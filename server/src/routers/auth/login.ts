import { loginInput } from '@iam/shared';
import { login as loginUser } from '../../modules/auth/login';
import { normalizeEmail } from '../../modules/users/email';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const login = publicProcedure
  .input(loginInput)
  .use(async ({ ctx, input, next }) => {
    await enforceLimits(ctx, [
      ['loginPerIp', ctx.client.ip],
      ['loginPerIpEmail', `${ctx.client.ip}|${normalizeEmail(input.email)}`],
    ]);
    return next();
  })
  .mutation(async ({ ctx, input }) => {
    const result = await loginUser(ctx.services, input, ctx.client);
    return result.status === 'authenticated' ? respondSignedIn(ctx, result) : result;
  });
