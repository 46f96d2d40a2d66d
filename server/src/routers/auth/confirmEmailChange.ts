import { linkTokenInput } from '@iam/shared';
import { confirmEmailChange as confirmChange } from '../../modules/auth/emailChange';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** A mutation on purpose: prefetching mail scanners issue GETs, which change nothing. */
export const confirmEmailChange = publicProcedure
  .input(linkTokenInput)
  .use(withLimits((ctx) => [['linksPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => confirmChange(ctx.services, input, ctx.client));
