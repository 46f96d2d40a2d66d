import { adminUserInput } from '@iam/shared';
import { revokeUserSessions } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Ends every session of a user. */
export const revokeSessions = adminProcedure
  .input(adminUserInput)
  .mutation(({ ctx, input }) => revokeUserSessions(ctx.services, ctx.actor, input));
