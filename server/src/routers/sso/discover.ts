import { ssoDiscoverInput } from '@iam/shared';
import { discoverSso } from '../../modules/auth/oauthFlow';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** Home-realm discovery: the organization that verified the address's domain, or null. A mutation, so the address stays out of URLs and access logs. */
export const discover = publicProcedure
  .input(ssoDiscoverInput)
  .use(withLimits((ctx) => [['ssoDiscoverPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => discoverSso(ctx.services, input));
