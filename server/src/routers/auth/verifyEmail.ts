import { type VerifyEmailInput, verifyEmailInput } from '@iam/shared';
import { verifyEmail as verifyUserEmail } from '../../modules/auth/verifyEmail';
import { respondSignedIn } from '../../trpc/authResult';
import type { Context } from '../../trpc/context';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const verifyEmail = publicProcedure
  .input(verifyEmailInput)
  .use(withLimits<Context, VerifyEmailInput>((ctx, input) => [['token' in input ? 'linksPerIp' : 'codesPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => respondSignedIn(ctx, await verifyUserEmail(ctx.services, input, ctx.client)));
