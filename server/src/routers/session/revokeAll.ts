import { revokeAllInput } from '@iam/shared';
import { authedProcedure } from '../../trpc/procedures';

export const revokeAll = authedProcedure.input(revokeAllInput).mutation(async ({ ctx, input }) => {
  const includeCurrent = input?.includeCurrent ?? false;
  const active = await ctx.services.sessions.listActive(ctx.auth.userId);
  const targets = active.map((session) => session.id).filter((id) => includeCurrent || id !== ctx.auth.sessionId);
  if (includeCurrent && !targets.includes(ctx.auth.sessionId)) targets.push(ctx.auth.sessionId);
  const count = await ctx.services.sessions.revoke(targets, 'user_all', ctx.client);
  if (includeCurrent) ctx.cookies.clearSession();
  return { status: 'revoked' as const, count };
});
