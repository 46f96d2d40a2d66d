import { verifyEmailInput } from '@iam/shared';
import { verifyEmail as verifyUserEmail } from '../../modules/auth/verifyEmail';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';

export const verifyEmail = publicProcedure
  .input(verifyEmailInput)
  .mutation(async ({ ctx, input }) => respondSignedIn(ctx, await verifyUserEmail(ctx.services, input, ctx.client)));
