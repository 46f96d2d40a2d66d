import { sessionIdInput } from '@iam/shared';
import { IamError } from '../../modules/errors/iamError';
import { authedProcedure } from '../../trpc/procedures';

/** Ends one of the caller's own sessions; someone else's session is simply not found. */
export const revoke = authedProcedure.input(sessionIdInput).mutation(async ({ ctx, input }) => {
  const session = await ctx.services.sessions.find(input.sessionId);
  if (!session || session.userId !== ctx.auth.userId) throw new IamError('NOT_FOUND', { message: 'No such session.' });
  await ctx.services.sessions.revoke([session.id], 'user', ctx.client);
  if (session.id === ctx.auth.sessionId) ctx.cookies.clearSession();
  return { status: 'revoked' as const };
});
