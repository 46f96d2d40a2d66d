import { bffLoginInput } from '@iam/shared';
import { login as loginUser } from '../../modules/auth/login';
import { normalizeEmail } from '../../modules/users/email';
import { withBotCheck } from '../../trpc/botCheck';
import type { Context } from '../../trpc/context';
import { hmacProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { bffSignInResult, forwardedContext } from './forwarded';

/**
 * `auth.login` on behalf of the browser a BFF serves: the same flow (failure counters, bot
 * check, sign-in risk checks), judged on the forwarded client. The BFF keeps the refresh token
 * and the device canary, or hands the Challenge to the browser and answers it with
 * `bff.verifyChallenge` (or the verification with `bff.verifyEmail`), forwarding the same canary.
 */
export const login = hmacProcedure
  .input(bffLoginInput)
  .use(async ({ ctx, input, next }) => next({ ctx: await forwardedContext(ctx, input.client) }))
  .use(withBotCheck('login'))
  .use(
    withLimits<Context, { email: string }>((ctx, input) => [
      ['loginPerIp', ctx.client.ip],
      ['loginPerIpEmail', `${ctx.client.ip}|${normalizeEmail(input.email)}`],
    ]),
  )
  .mutation(async ({ ctx, input }) =>
    bffSignInResult(await loginUser(ctx.services, { email: input.email, password: input.password }, ctx.client), ctx.canaryId),
  );
