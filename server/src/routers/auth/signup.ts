import { nameSchema, signupInput } from '@iam/shared';
import { signup as signupUser } from '../../modules/auth/signup';
import { withBotCheck } from '../../trpc/botCheck';
import type { Context } from '../../trpc/context';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { safeText } from '../../trpc/safeText';

export const signup = publicProcedure
  .input(signupInput.extend({ name: safeText(nameSchema).optional() }))
  .use(withBotCheck('signup'))
  .use(
    // Per IP only: the per-address cap is quiet, inside the flow (a flood at one address must
    // not turn its owner away).
    withLimits<Context, { email: string }>((ctx) => [['signupPerIp', ctx.client.ip]]),
  )
  .mutation(({ ctx, input }) => signupUser(ctx.services, input, ctx.client));
