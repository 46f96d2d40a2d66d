import { IamError } from '../errors/iamError';
import type { AccessTokenService } from './accessToken';

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
