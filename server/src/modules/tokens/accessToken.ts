import { KeyObject, sign } from 'node:crypto';
import { errors, type JWTHeaderParameters, type JWTPayload, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { type Clock, maxClockSkewInSeconds } from '../clock';
import { base32, secureRandomBytes } from '../crypto/random';
import { IamError } from '../errors/iamError';
import type { RevocationSet } from './revocations';
import { accessTokenAlgorithm, type SigningKeyStore } from './signingKeys';

/** RFC 9068 §2.1: access tokens in JWT form are typed `at+jwt`. */
export const accessTokenType = 'at+jwt';
/** The Node form of each signing key, made once: a synchronous signature costs a fraction of a WebCrypto job. */
const nodeKeys = new WeakMap<CryptoKey, KeyObject>();

/**
 * A JWS in compact serialization (RFC 7515 §7.1) signed with Ed25519 (RFC 8037 §3.1, `alg`
 * EdDSA): BASE64URL(header) . BASE64URL(payload) . BASE64URL(signature over the first two).
 * The same bytes jose's SignJWT produces for these claims, without its WebCrypto round trip;
 * verification stays with jose (RFC 8725 §3.1: the verifier pins the algorithm).
 */
function signCompact(header: JWTHeaderParameters, payload: JWTPayload, privateKey: CryptoKey): string {
  let key = nodeKeys.get(privateKey);
  if (!key) {
    key = KeyObject.from(privateKey);
    nodeKeys.set(privateKey, key);
  }
  const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${sign(null, Buffer.from(signingInput), key).toString('base64url')}`;
}

/** Clock skew tolerated on `exp` and on an `iat` from the future (RFC 7519 §4.1.4: a small leeway). */
export const clockToleranceInSeconds = 5;
/** Headers that ask the verifier to trust a key the token brings along (RFC 8725 §3.10: do not trust received claims). */
const untrustedKeyHeaders = ['jwk', 'jku', 'x5u', 'x5c'] as const;

export interface AccessTokenClaims {
  /** The key that signed it. */
  kid: string;
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  roles: string[];
  /** `org`: the organization the session acts in (org.switch), when it has one and is still a member of it. */
  org?: string;
  /** `org_role`: the holder's role there when the token was issued (bff.authorize reads the membership again). */
  orgRole?: OrganizationRole;
}

export type OrganizationRole = 'owner' | 'admin' | 'member';

const organizationRoles: readonly string[] = ['owner', 'admin', 'member'];

/** The organization a token is issued for: its id and the holder's role there. */
export interface TokenOrganization {
  id: string;
  role: OrganizationRole;
}

export interface AccessTokenService {
  issue(input: {
    userId: string;
    sessionId: string;
    roles: string[];
    organization?: TokenOrganization | null | undefined;
  }): Promise<{ token: string; expiresAt: Date }>;
  /**
   * Verifies signature, algorithm, `typ`, `iss`, `aud`, `exp`, `iat` and the required
   * claims, then the session's revocation. Throws `IamError` (`TOKEN_EXPIRED`,
   * `SESSION_REVOKED` or `UNAUTHENTICATED`).
   */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Like verify, but an expired token is still read (logout with a stale token). */
  readSessionId(token: string): Promise<string | null>;
}

export function createAccessTokenService(deps: {
  keys: SigningKeyStore;
  revocations: RevocationSet;
  clock: Clock;
  issuer: string;
  audience: string;
  ttlInSeconds: number;
  cacheSize?: number;
}): AccessTokenService {
  // Verified tokens by their exact string; an entry lives no longer than its token. A
  // re-encoded variant of a token simply misses the cache: revocation is keyed on `sid`,
  // never on the string (jose accepts re-encoded forms of one token).
  const verified = new LRUCache<string, AccessTokenClaims>({ max: deps.cacheSize ?? 50_000 });

  async function verifySignature(token: string, now: Date, allowExpired: boolean): Promise<AccessTokenClaims> {
    let payload: JWTPayload;
    let protectedHeader: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader } = await jwtVerify(
        token,
        async (header) => {
          for (const name of untrustedKeyHeaders) if (name in header) throw new IamError('UNAUTHENTICATED');
          const key = typeof header.kid === 'string' ? await deps.keys.verificationKey(header.kid) : null;
          if (!key) throw new IamError('UNAUTHENTICATED');
          return key;
        },
        {
          algorithms: [accessTokenAlgorithm],
          typ: accessTokenType,
          issuer: deps.issuer,
          audience: deps.audience,
          requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
          clockTolerance: clockToleranceInSeconds,
          currentDate: allowExpired ? new Date(0) : now,
        },
      ));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new IamError('TOKEN_EXPIRED');
      throw new IamError('UNAUTHENTICATED', { cause: error });
    }
    return toClaims(payload, protectedHeader.kid ?? '', now);
  }

  function toClaims(payload: JWTPayload, kid: string, now: Date): AccessTokenClaims {
    const { sub, sid, jti, iat, exp, roles, org, org_role: orgRole } = payload as Record<string, unknown>;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      !Array.isArray(roles) ||
      !roles.every((role) => typeof role === 'string')
    ) {
      throw new IamError('UNAUTHENTICATED');
    }
    // The organization claims come together or not at all (RFC 8725 §3.11: a token's claims are
    // validated as a whole; one without the other is not a token this service signs).
    if (org !== undefined || orgRole !== undefined) {
      if (typeof org !== 'string' || typeof orgRole !== 'string' || !organizationRoles.includes(orgRole)) {
        throw new IamError('UNAUTHENTICATED');
      }
    }
    // jose checks a future `iat` only with maxTokenAge; we check it here whatever the options.
    // Another instance's clock may be ahead of ours, within the documented skew.
    if (iat > now.getTime() / 1000 + maxClockSkewInSeconds) throw new IamError('UNAUTHENTICATED');
    // No token of ours lives longer than the configured lifetime.
    if (exp - iat > deps.ttlInSeconds + clockToleranceInSeconds) throw new IamError('UNAUTHENTICATED');
    const claims: AccessTokenClaims = { kid, sub, sid, jti, iat, exp, roles: roles as string[] };
    if (typeof org === 'string') {
      claims.org = org;
      claims.orgRole = orgRole as OrganizationRole;
    }
    return claims;
  }

  return {
    // Async for the callers: a signer in a key service would be.
    async issue({ userId, sessionId, roles, organization }) {
      const { kid, privateKey } = deps.keys.current();
      const now = deps.clock.now();
      const iat = Math.floor(now.getTime() / 1000);
      const exp = iat + deps.ttlInSeconds;
      const token = signCompact(
        { alg: accessTokenAlgorithm, typ: accessTokenType, kid },
        {
          sid: sessionId,
          roles,
          ...(organization ? { org: organization.id, org_role: organization.role } : {}),
          iss: deps.issuer,
          aud: deps.audience,
          sub: userId,
          jti: base32(secureRandomBytes(16)),
          iat,
          exp,
        },
        privateKey,
      );
      return { token, expiresAt: new Date(exp * 1000) };
    },

    async verify(token) {
      const now = deps.clock.now();
      let claims = verified.get(token);
      if (claims && claims.exp + clockToleranceInSeconds <= now.getTime() / 1000) {
        verified.delete(token);
        throw new IamError('TOKEN_EXPIRED');
      }
      // A key dropped since (an immediate rotation) takes its cached tokens with it.
      if (claims && !deps.keys.isTrusted(claims.kid)) {
        verified.delete(token);
        throw new IamError('UNAUTHENTICATED');
      }
      if (!claims) {
        claims = await verifySignature(token, now, false);
        const ttlInMs = (claims.exp + clockToleranceInSeconds) * 1000 - now.getTime();
        if (ttlInMs > 0) verified.set(token, claims, { ttl: ttlInMs });
      }
      if (deps.revocations.isRevoked(claims.sid)) throw new IamError('SESSION_REVOKED');
      return claims;
    },

    async readSessionId(token) {
      try {
        return (await verifySignature(token, deps.clock.now(), true)).sid;
      } catch {
        return null;
      }
    },
  };
}
