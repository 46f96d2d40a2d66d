import { verifyEmailInput } from '@iam/shared';
import { verifyEmail as verifyUserEmail } from '../../modules/auth/verifyEmail';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';
import { enforceLimits } from '../../trpc/rateLimit';

export const verifyEmail = publicProcedure
  .input(verifyEmailInput)
  .use(async ({ ctx, input, next }) => {
    await enforceLimits(ctx, [['token' in input ? 'linksPerIp' : 'codesPerIp', ctx.client.ip]]);
    return next();
  })
  .mutation(async ({ ctx, input }) => respondSignedIn(ctx, await verifyUserEmail(ctx.services, input, ctx.client)));
