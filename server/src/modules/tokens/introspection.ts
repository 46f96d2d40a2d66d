import type { Clock } from '../clock';
import { isIamError } from '../errors/iamError';
import type { AccessTokenClaims, AccessTokenService } from './accessToken';

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
  return (await introspectWithClaims(deps, token)).introspection;
}

/** The introspection, and the verified claims of an active token. */
async function introspectWithClaims(
  deps: { accessTokens: AccessTokenService; clock: Clock },
  token: string,
): Promise<{ introspection: Introspection; claims: AccessTokenClaims | null }> {
  let claims: AccessTokenClaims;
  try {
    claims = await deps.accessTokens.verify(token);
  } catch (error) {
    if (isIamError(error, 'TOKEN_EXPIRED')) return { introspection: { active: false, reason: 'expired' }, claims: null };
    if (isIamError(error, 'SESSION_REVOKED')) return { introspection: { active: false, reason: 'revoked' }, claims: null };
    if (isIamError(error)) return { introspection: { active: false, reason: 'invalid' }, claims: null };
    throw error;
  }
  const secondsLeft = claims.exp - deps.clock.now().getTime() / 1000;
  const lifetimeInSeconds = claims.exp - claims.iat;
  return {
    introspection: {
      active: true,
      sub: claims.sub,
      sid: claims.sid,
      roles: claims.roles,
      exp: new Date(claims.exp * 1000),
      expiresInSeconds: Math.max(0, Math.floor(secondsLeft)),
      refreshRecommended: secondsLeft * 3 < lifetimeInSeconds,
    },
    claims,
  };
}

export type Authorization =
  | { allowed: true; sub: string; sid: string }
  | {
      allowed: false;
      reason: InactiveReason | 'missing_roles' | 'wrong_organization' | 'missing_organization_role';
      missingRoles?: string[];
    };

/** The organization a BFF asks about: the token must name it, and the membership must hold one of `roles` now. */
export interface OrganizationRequirement {
  id: string;
  roles?: ReadonlyArray<'owner' | 'admin' | 'member'> | undefined;
}

/**
 * Whether an access token is active and holds the roles: `all` of them (the default) or
 * `any` of them. A refusal says why, so a BFF can refresh an expired token and forbid a
 * missing role.
 *
 * With an `organization`, the token's `org` claim must name it, and the holder's membership is
 * read from the database on every call (one primary-key read, `membershipRole`): a member
 * removed or demoted a moment ago is refused at once, whatever the token says (OWASP ASVS 4.0
 * V4.1.3 and V3.5.3: authorization decided on the server's state, not on claims a token
 * carried since it was issued).
 */
export async function authorizeAccessToken(
  deps: {
    accessTokens: AccessTokenService;
    clock: Clock;
    /** The holder's role in the organization now, or null; required when `organization` is asked about. */
    membershipRole?: (organizationId: string, userId: string) => Promise<'owner' | 'admin' | 'member' | null>;
  },
  token: string,
  requirement: { roles: readonly string[]; mode?: 'all' | 'any'; organization?: OrganizationRequirement | undefined },
): Promise<Authorization> {
  const { introspection, claims } = await introspectWithClaims(deps, token);
  if (!introspection.active) return { allowed: false, reason: introspection.reason };
  const held = new Set(introspection.roles);
  const missingRoles = requirement.roles.filter((role) => !held.has(role));
  const rolesHeld =
    requirement.roles.length === 0 ||
    (requirement.mode === 'any' ? missingRoles.length < requirement.roles.length : missingRoles.length === 0);
  if (!rolesHeld) return { allowed: false, reason: 'missing_roles', missingRoles };
  const organization = requirement.organization;
  if (organization) {
    if (!claims || claims.org !== organization.id) return { allowed: false, reason: 'wrong_organization' };
    if (!deps.membershipRole) throw new Error('authorizeAccessToken: membershipRole is required with an organization.');
    const role = await deps.membershipRole(organization.id, introspection.sub);
    const accepted = organization.roles ?? ['owner', 'admin', 'member'];
    if (!role || !accepted.includes(role)) return { allowed: false, reason: 'missing_organization_role' };
  }
  return { allowed: true, sub: introspection.sub, sid: introspection.sid };
}
