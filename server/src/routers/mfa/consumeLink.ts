import { linkTokenInput } from '@iam/shared';
import { completeLoginChallenge } from '../../modules/auth/completeChallenge';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** A mutation on purpose: prefetching mail scanners issue GETs, which consume nothing. */
export const consumeLink = publicProcedure
  .input(linkTokenInput)
  .use(withLimits((ctx) => [['linksPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => respondSignedIn(ctx, await completeLoginChallenge(ctx.services, input, ctx.client)));
