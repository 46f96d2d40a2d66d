import { httpStatusOf } from '@iam/shared';
import type { NextFunction, Request, Response } from 'express';
import { isIamError } from '../modules/errors/iamError';
import type { AccessTokenService } from '../modules/tokens/accessToken';
import { authenticate, bearerTokenOf, type IamAuth, type RoleRequirement } from '../modules/tokens/authenticate';
import { trpcErrorOf } from '../trpc/errors';
import { sendJsonError } from './errorEnvelope';

declare global {
  namespace Express {
    interface Locals {
      /** Set by `requireAuth` for the routes it guards. */
      iam?: IamAuth;
    }
  }
}

/**
 * Express middleware for a host app's own routes: a valid access token (and the roles) or
 * 401/403 with the catalog code. RFC 6750 §3: a refused bearer token gets
 * `WWW-Authenticate: Bearer`. The caller is in `res.locals.iam`.
 */
export function createRequireAuth(accessTokens: AccessTokenService) {
  return (requirement: RoleRequirement = {}) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        res.locals.iam = await authenticate(accessTokens, bearerTokenOf(req.headers.authorization), requirement);
        next();
      } catch (error) {
        if (!isIamError(error)) {
          next(error);
          return;
        }
        if (httpStatusOf(error.code) === 401) res.setHeader('WWW-Authenticate', `Bearer error="invalid_token"`);
        sendJsonError(res, error.code, { message: error.message });
      }
    };
}

/**
 * A guard for a host app's own tRPC procedures:
 * `t.procedure.use(async ({ ctx, next }) => next({ ctx: { iam: await iam.trpcGuard(ctx.req.headers.authorization, { roles: ['admin'] }) } }))`.
 * Refusals are `TRPCError`s with the catalog code as their cause.
 */
export function createTrpcGuard(accessTokens: AccessTokenService) {
  return async (authorization: string | undefined | null, requirement: RoleRequirement = {}): Promise<IamAuth> => {
    try {
      return await authenticate(accessTokens, bearerTokenOf(authorization), requirement);
    } catch (error) {
      if (!isIamError(error)) throw error;
      throw trpcErrorOf(error);
    }
  };
}
