import { notMeInput } from '@iam/shared';
import { reportNotMe } from '../../modules/auth/notMe';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/**
 * "This was not me": the link in an alert email ends the session it names. A mutation, so
 * mail scanners that prefetch the link end nothing; the link's page asks for a click.
 */
export const notMe = publicProcedure
  .input(notMeInput)
  .use(withLimits((ctx) => [['linksPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => reportNotMe(ctx.services, input.token, ctx.client));
