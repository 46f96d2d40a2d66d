import { activityInput } from '@iam/shared';
import { queryAudit } from '../../modules/auth/admin';
import { authedProcedure } from '../../trpc/procedures';

/**
 * The user's own security events (sign-ins, challenges, changes, sessions ended), newest first,
 * a keyset page at a time: what "recent activity" pages show. Only the user's own rows, and only
 * whether the user or someone else (an admin) acted, never who (OWASP ASVS 4.0 V8.3.1).
 */
export const activity = authedProcedure.input(activityInput).query(async ({ ctx, input }) => {
  const page = await queryAudit(ctx.services, { userId: ctx.auth.userId, cursor: input?.cursor, limit: input?.limit ?? 50 });
  return {
    items: page.items.map(({ actorId, userId: _userId, ...event }) => ({
      ...event,
      byYou: actorId === null || actorId === ctx.auth.userId,
    })),
    nextCursor: page.nextCursor,
  };
});
