import { ssoAuthorizeInput } from '@iam/shared';
import { beginSso } from '../../modules/auth/oauthFlow';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** Starts the organization's OpenID Connect flow, as `oauth.authorize` does; the callback is `oauth.callback` or the callback route. */
export const authorize = publicProcedure
  .input(ssoAuthorizeInput)
  .use(
    withLimits((ctx) => [
      ['ssoDiscoverPerIp', ctx.client.ip],
      ['oauthPerIp', ctx.client.ip],
    ]),
  )
  .mutation(({ ctx, input }) => beginSso(ctx.services, input, ctx.client));
