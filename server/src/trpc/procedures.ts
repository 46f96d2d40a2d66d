import { TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { isDatabaseUnavailableError, isTransientConflictError } from '../db/client';
import { recordAudit } from '../modules/audit/audit';
import { requireAdmin } from '../modules/auth/admin';
import { IamError } from '../modules/errors/iamError';
import { assertIpNotBlocked, recordStrike } from '../modules/rateLimit/guards';
import { withinTimeout } from '../modules/timeouts';
import type { Context } from './context';
import { markLogged, toTrpcError } from './errors';
import { baseProcedure, middleware } from './init';
import { enforceLimits } from './rateLimit';
import { markupIssue } from './safeText';
import { withProcedureSpan } from './tracing';

/** Maps domain errors to their catalog status, and logs what nobody expected. */
const withErrorMapping = middleware(async ({ ctx, next, path }) => {
  const stopTimer = ctx.services.metrics.procedureSeconds.startTimer({ path });
  const result = await next();
  stopTimer({ result: result.ok ? 'ok' : 'error' });
  if (!result.ok) {
    if (result.error.cause instanceof ZodError && isMarkupProbe(result.error.cause)) {
      // docs/security.md: markup in a field is refused and counts as a strike toward an IP block.
      const blockedForSeconds = await recordStrike(ctx.services.limits, ctx.client.ip);
      if (blockedForSeconds > 0) ctx.logger.warn({ ip: ctx.client.ip, blockedForSeconds, path }, 'IP blocked after markup probes');
      throw toTrpcError(new TRPCError({ code: 'BAD_REQUEST', cause: new IamError('XSS_DETECTED') }));
    }
    if (isTransientConflictError(result.error.cause)) {
      ctx.logger.warn({ err: result.error.cause, path }, 'transaction conflict outlived its retries');
      throw toTrpcError(
        new TRPCError({ code: 'SERVICE_UNAVAILABLE', cause: new IamError('SERVICE_UNAVAILABLE', { retryAfterSeconds: 1 }) }),
      );
    }
    if (isDatabaseUnavailableError(result.error.cause)) {
      ctx.logger.error({ err: result.error.cause, path }, 'database unavailable');
      throw toTrpcError(new TRPCError({ code: 'SERVICE_UNAVAILABLE', cause: new IamError('SERVICE_UNAVAILABLE') }));
    }
    const mapped = toTrpcError(result.error);
    if (mapped.code === 'TOO_MANY_REQUESTS' && mapped.cause instanceof IamError)
      ctx.services.metrics.refusals.inc({ code: mapped.cause.code });
    if (mapped.code === 'INTERNAL_SERVER_ERROR' && !(mapped.cause instanceof IamError)) {
      ctx.logger.error({ err: result.error.cause ?? result.error, path }, 'unexpected error');
      markLogged(result.error.cause ?? result.error);
    }
    throw mapped;
  }
  return result;
});

/**
 * A call not done within the request deadline is answered 503 SERVICE_UNAVAILABLE, whatever it
 * waits on (docs/operations.md, timeouts and deadlines). Its work goes on until its own queries
 * time out, and what it finishes then is kept: the 503 does not say the call had no effect.
 */
const withDeadline = middleware(async ({ ctx, next, path }) => {
  const deadlineInMs = ctx.services.settings.requestDeadlineInMs;
  return withinTimeout(next(), deadlineInMs, () => {
    ctx.logger.warn({ path, deadlineInMs }, 'call passed its deadline');
    throw new IamError('SERVICE_UNAVAILABLE');
  });
});

/** Every call from an IP serving a temporary block is refused before anything else runs. */
const withIpBlock = middleware(async ({ ctx, next }) => {
  await assertIpNotBlocked(ctx.services.limits, ctx.client.ip);
  return next();
});

/** Anyone may call it. */
export const publicProcedure = baseProcedure.use(withProcedureSpan).use(withErrorMapping).use(withDeadline).use(withIpBlock);

/**
 * A valid access token is required: `ctx.auth` holds its claims. The token is verified
 * strictly and its session's revocation checked on every call.
 */
/** The context of an authenticated procedure. */
export type AuthedContext = Context & { auth: { userId: string; sessionId: string; roles: string[] } };

export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.bearerToken) throw new IamError('UNAUTHENTICATED');
  const claims = await ctx.services.accessTokens.verify(ctx.bearerToken);
  return next({ ctx: { auth: { userId: claims.sub, sessionId: claims.sid, roles: claims.roles } } });
});

/**
 * Only an admin may call (docs/api.md, admin): the role is read from the database on each call
 * (a token issued before the role was removed is not enough), and a disabled admin is refused.
 * `ctx.actor` names the acting admin for the audit.
 */
export const adminProcedure = authedProcedure.use(async ({ ctx, next, type, path, getRawInput }) => {
  const actor = { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, client: ctx.client };
  await requireAdmin(ctx.services, actor);
  const result = await next({ ctx: { actor } });
  // Reads are audited too (who looked at whom, and what they searched); changes audit themselves.
  if (type === 'query' && result.ok) {
    const raw = (await getRawInput().catch(() => undefined)) as { json?: unknown } | Record<string, unknown> | undefined;
    const input = (raw && typeof raw === 'object' && 'json' in raw ? raw.json : raw) as Record<string, unknown> | undefined;
    const userId = typeof input?.userId === 'string' ? input.userId.slice(0, 40) : null;
    await recordAudit(ctx.services.db, {
      type: 'audit.admin_read',
      at: ctx.services.clock.now(),
      userId,
      actorId: actor.userId,
      sessionId: actor.sessionId,
      client: ctx.client,
      data: { procedure: path, ...(typeof input?.query === 'string' ? { query: input.query.slice(0, 254) } : {}) },
    });
  }
  return result;
});

/**
 * Only a service may call: a request signed with one of `HMAC_KEYS` (docs/api.md, HMAC request
 * signing; verified once per HTTP request, the key's procedure allowlist included), or a
 * trusted in-process caller. A user's bearer token is not enough. `ctx.service` names the
 * key; each call counts against `hmacPerKey`.
 */
export const hmacProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (ctx.service) return next({ ctx: { service: ctx.service } });
  if (!ctx.verifyService) throw new IamError('HMAC_INVALID');
  const service = await ctx.verifyService();
  await enforceLimits(ctx, [['hmacPerKey', service.keyId]]);
  return next({ ctx: { service } });
});

function isMarkupProbe(error: ZodError): boolean {
  return error.issues.some((issue) => issue.code === 'custom' && issue.params?.iamCode === markupIssue.iamCode);
}
