import { adminDestructiveInput } from '@iam/shared';
import { deleteUser } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Deletes a user as auth.deleteAccount does (step-up `admin`). */
export const deleteUserProcedure = adminProcedure
  .input(adminDestructiveInput)
  .mutation(({ ctx, input }) => deleteUser(ctx.services, ctx.actor, input));
