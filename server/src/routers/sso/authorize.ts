import { ssoAuthorizeInput } from '@iam/shared';
import { beginSso } from '../../modules/auth/ssoFlow';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** Starts the organization's flow: OpenID Connect as `oauth.authorize` does (the callback is `oauth.callback` or the callback route), or SAML (the IdP posts to the ACS route). */
export const authorize = publicProcedure
  .input(ssoAuthorizeInput)
  .use(
    withLimits((ctx) => [
      ['ssoDiscoverPerIp', ctx.client.ip],
      ['oauthPerIp', ctx.client.ip],
    ]),
  )
  .mutation(({ ctx, input }) => beginSso(ctx.services, input, ctx.client));
