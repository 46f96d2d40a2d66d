import type { IamErrorCode } from '@iam/shared';
import { iamErrors } from '@iam/shared';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { NextFunction, Request, Response } from 'express';
import { IamError, isIamError } from '../modules/errors/iamError';
import type { AccessTokenService } from '../modules/tokens/accessToken';

/** Who called, as a guard establishes it. */
export interface IamAuth {
  userId: string;
  sessionId: string;
  roles: string[];
  expiresAt: Date;
}

export interface RoleRequirement {
  /** Roles the caller must hold. */
  roles?: string[];
  /** `all` (default) or `any` of `roles`. */
  mode?: 'all' | 'any';
}

export function hasRoles(held: readonly string[], requirement: RoleRequirement): boolean {
  const wanted = requirement.roles ?? [];
  if (wanted.length === 0) return true;
  return requirement.mode === 'any' ? wanted.some((role) => held.includes(role)) : wanted.every((role) => held.includes(role));
}

/** The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 9110 §11.1). */
export function bearerTokenOf(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^bearer ([A-Za-z0-9_.~+/=-]{1,4096})$/i.exec(header.trim());
  return match?.[1] ?? null;
}

/**
 * Verifies a bearer token and checks roles: the same checks as the service's own
 * authenticated procedures (signature, claims, revocation). Throws `IamError`.
 */
export async function authenticate(
  accessTokens: AccessTokenService,
  token: string | null,
  requirement: RoleRequirement = {},
): Promise<IamAuth> {
  if (!token) throw new IamError('UNAUTHENTICATED');
  const claims = await accessTokens.verify(token);
  if (!hasRoles(claims.roles, requirement)) throw new IamError('FORBIDDEN');
  return { userId: claims.sub, sessionId: claims.sid, roles: claims.roles, expiresAt: new Date(claims.exp * 1000) };
}

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
        const status = error.code === 'FORBIDDEN' ? 403 : 401;
        if (status === 401) res.setHeader('WWW-Authenticate', `Bearer error="invalid_token"`);
        res.status(status).json({ error: { message: error.message, data: { iamCode: error.code } } });
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
      const code: IamErrorCode = error.code;
      throw new TRPCError({ code: iamErrors[code].status as TRPC_ERROR_CODE_KEY, message: error.message, cause: error });
    }
  };
}
