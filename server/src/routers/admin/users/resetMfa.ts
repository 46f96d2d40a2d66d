import { adminDestructiveInput } from '@iam/shared';
import { resetUserMfa } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Removes TOTP, backup codes and passkeys (step-up `admin`). */
export const resetMfa = adminProcedure
  .input(adminDestructiveInput)
  .mutation(({ ctx, input }) => resetUserMfa(ctx.services, ctx.actor, input));
