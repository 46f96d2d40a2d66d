import type { Clock } from '../clock';
import { isIamError } from '../errors/iamError';
import type { AccessTokenService } from './accessToken';

export type InactiveReason = 'expired' | 'revoked' | 'invalid';

export type Introspection =
  | {
      active: true;
      sub: string;
      sid: string;
      roles: string[];
      exp: Date;
      expiresInSeconds: number;
      /** Less than a third of the token's lifetime is left: time to refresh. */
      refreshRecommended: boolean;
    }
  | { active: false; reason: InactiveReason };

/**
 * What a BFF learns of an access token (in the spirit of RFC 7662): the same checks as an
 * authenticated call (signature, claims, revocation of its session), as an answer rather
 * than an error. Never throws for a bad token.
 */
export async function introspectAccessToken(
  deps: { accessTokens: AccessTokenService; clock: Clock },
  token: string,
): Promise<Introspection> {
  let claims: Awaited<ReturnType<AccessTokenService['verify']>>;
  try {
    claims = await deps.accessTokens.verify(token);
  } catch (error) {
    if (isIamError(error, 'TOKEN_EXPIRED')) return { active: false, reason: 'expired' };
    if (isIamError(error, 'SESSION_REVOKED')) return { active: false, reason: 'revoked' };
    if (isIamError(error)) return { active: false, reason: 'invalid' };
    throw error;
  }
  const secondsLeft = claims.exp - deps.clock.now().getTime() / 1000;
  const lifetimeInSeconds = claims.exp - claims.iat;
  return {
    active: true,
    sub: claims.sub,
    sid: claims.sid,
    roles: claims.roles,
    exp: new Date(claims.exp * 1000),
    expiresInSeconds: Math.max(0, Math.floor(secondsLeft)),
    refreshRecommended: secondsLeft * 3 < lifetimeInSeconds,
  };
}

export type Authorization =
  | { allowed: true; sub: string; sid: string }
  | { allowed: false; reason: InactiveReason | 'missing_roles'; missingRoles?: string[] };

/**
 * Whether an access token is active and holds the roles: `all` of them (the default) or
 * `any` of them. A refusal says why, so a BFF can refresh an expired token and forbid a
 * missing role.
 */
export async function authorizeAccessToken(
  deps: { accessTokens: AccessTokenService; clock: Clock },
  token: string,
  requirement: { roles: readonly string[]; mode?: 'all' | 'any' },
): Promise<Authorization> {
  const introspection = await introspectAccessToken(deps, token);
  if (!introspection.active) return { allowed: false, reason: introspection.reason };
  const held = new Set(introspection.roles);
  const missingRoles = requirement.roles.filter((role) => !held.has(role));
  const allowed = requirement.mode === 'any' ? missingRoles.length < requirement.roles.length : missingRoles.length === 0;
  return allowed
    ? { allowed: true, sub: introspection.sub, sid: introspection.sid }
    : { allowed: false, reason: 'missing_roles', missingRoles };
}
