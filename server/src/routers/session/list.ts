import { authedProcedure } from '../../trpc/procedures';

export const list = authedProcedure.query(async ({ ctx }) => {
  const sessions = await ctx.services.sessions.listActive(ctx.auth.userId);
  return sessions.map((session) => ({ ...session, current: session.id === ctx.auth.sessionId }));
});
