import { IamError } from '../modules/errors/iamError';
import { markLogged, toTrpcError } from './errors';
import { baseProcedure, middleware } from './init';

/** Maps domain errors to their catalog status, and logs what nobody expected. */
const withErrorMapping = middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = toTrpcError(result.error);
    if (mapped.code === 'INTERNAL_SERVER_ERROR' && !(mapped.cause instanceof IamError)) {
      ctx.logger.error({ err: result.error.cause ?? result.error, path }, 'unexpected error');
      markLogged(result.error.cause ?? result.error);
    }
    throw mapped;
  }
  return result;
});

/** Anyone may call it. */
export const publicProcedure = baseProcedure.use(withErrorMapping);

/**
 * A valid access token is required: `ctx.auth` holds its claims. The token is verified
 * strictly and its session's revocation checked on every call.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.bearerToken) throw new IamError('UNAUTHENTICATED');
  const claims = await ctx.services.accessTokens.verify(ctx.bearerToken);
  return next({ ctx: { auth: { userId: claims.sub, sessionId: claims.sid, roles: claims.roles } } });
});
