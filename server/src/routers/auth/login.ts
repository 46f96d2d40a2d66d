import { loginInput } from '@iam/shared';
import { login as loginUser } from '../../modules/auth/login';
import { normalizeEmail } from '../../modules/users/email';
import { respondSignInResult } from '../../trpc/authResult';
import { withBotCheck } from '../../trpc/botCheck';
import type { Context } from '../../trpc/context';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const login = publicProcedure
  .input(loginInput)
  .use(withBotCheck('login'))
  .use(
    withLimits<Context, { email: string }>((ctx, input) => [
      ['loginPerIp', ctx.client.ip],
      ['loginPerIpEmail', `${ctx.client.ip}|${normalizeEmail(input.email)}`],
    ]),
  )
  .mutation(async ({ ctx, input }) => {
    const result = await loginUser(ctx.services, input, ctx.client);
    return respondSignInResult(ctx, result);
  });
