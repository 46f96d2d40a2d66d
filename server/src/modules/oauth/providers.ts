import { importPKCS8, SignJWT } from 'jose';
import type { OAuthProfileInput, OAuthProviderConfig, PresetType } from './config';
import { type OAuthProfile, standardClaimsProfile, toProfile, valueAt } from './profile';

type Json = Record<string, unknown>;
type MappedProfile = Partial<Record<keyof OAuthProfileInput, unknown>>;

/** Everything the flow needs to know of one configured provider. */
export interface ProviderDefinition {
  id: string;
  name: string;
  /** `oidc`: discovery by issuer, an ID token validated with a nonce. `oauth2`: endpoints and a userinfo call. */
  protocol: 'oidc' | 'oauth2';
  clientId: string;
  /** A static secret, or one made per exchange (Apple's signed client secret); null for a public client. */
  clientSecret: string | (() => Promise<string>) | null;
  tokenEndpointAuthMethod: 'client_secret_post' | 'client_secret_basic' | 'none';
  redirectUri: string;
  scopes: string[];
  authorizationParams: Record<string, string>;
  allowInsecureHttp: boolean;
  /** oidc: the issuer identifier discovery starts from. */
  issuer?: string;
  /** oauth2: the endpoints, and the issuer when the provider returns `iss` (RFC 9207). */
  endpoints?: { issuer: string | null; authorizationUrl: string; tokenUrl: string; userinfoUrl: string };
  userinfoHeaders?: Record<string, string>;
  /** Maps ID token claims (merged with userinfo) or the OAuth 2 userinfo JSON to our profile. */
  mapProfile(claims: Json): MappedProfile;
  /** A second look when the profile lacks a verified address (GitHub's /user/emails). */
  completeProfile?(profile: OAuthProfile, fetchJson: (url: string) => Promise<unknown>): Promise<OAuthProfile>;
}

const presetNames: Record<PresetType, string> = {
  google: 'Google',
  github: 'GitHub',
  microsoft: 'Microsoft',
  apple: 'Apple',
  discord: 'Discord',
};

/** Microsoft's tenant of personal accounts: their address is the verified sign-in name. */
const microsoftPersonalAccountsTenant = '9188040d-6c67-4c5b-b112-36a304b66dad';

const githubApiHeaders = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };

/** Turns a validated provider entry into its definition; `publicUrl` gives the default redirect URI. */
export function defineProvider(config: OAuthProviderConfig, publicUrl: string): ProviderDefinition {
  const id = config.id ?? config.type;
  const base = {
    id,
    name: config.name ?? (config.type in presetNames ? presetNames[config.type as PresetType] : id),
    clientId: config.clientId,
    clientSecret: config.clientSecret ?? null,
    redirectUri: config.redirectUri ?? `${publicUrl.replace(/\/+$/, '')}/oauth/callback/${id}`,
    allowInsecureHttp: config.allowInsecureHttp ?? false,
    authorizationParams: config.authorizationParams ?? {},
  };
  const secretMethod = (fallback: ProviderDefinition['tokenEndpointAuthMethod']) =>
    config.tokenEndpointAuthMethod ?? (config.clientSecret || config.type === 'apple' ? fallback : 'none');

  switch (config.type) {
    case 'google':
      return {
        ...base,
        protocol: 'oidc',
        issuer: 'https://accounts.google.com',
        scopes: config.scopes ?? ['openid', 'email', 'profile'],
        tokenEndpointAuthMethod: secretMethod('client_secret_post'),
        mapProfile: standardClaimsProfile,
      };
    case 'microsoft':
      return {
        ...base,
        protocol: 'oidc',
        // openid-client checks multi-tenant ID tokens against the issuer template with their `tid`.
        issuer: `https://login.microsoftonline.com/${config.tenant ?? 'common'}/v2.0`,
        scopes: config.scopes ?? ['openid', 'email', 'profile'],
        tokenEndpointAuthMethod: secretMethod('client_secret_post'),
        mapProfile: (claims) => ({
          ...standardClaimsProfile(claims),
          // Entra ID's `email` is mutable and unverified for work accounts ("nOAuth"): trust it only
          // when the tenant proved the domain (`xms_edov`) or for personal accounts.
          emailVerified:
            claims.email_verified === true ||
            claims.xms_edov === true ||
            claims.xms_edov === 'true' ||
            claims.tid === microsoftPersonalAccountsTenant,
        }),
      };
    case 'apple':
      return {
        ...base,
        protocol: 'oidc',
        issuer: 'https://appleid.apple.com',
        scopes: config.scopes ?? ['openid', 'email', 'name'],
        // Apple answers scoped requests only with form_post; the callback route turns the POST into a GET.
        authorizationParams: { response_mode: 'form_post', ...base.authorizationParams },
        clientSecret:
          config.clientSecret ??
          appleClientSecret({
            teamId: config.teamId ?? '',
            keyId: config.keyId ?? '',
            privateKey: config.privateKey ?? '',
            clientId: config.clientId,
          }),
        tokenEndpointAuthMethod: config.tokenEndpointAuthMethod ?? 'client_secret_post',
        // Apple sends `email_verified` as "true"; relay addresses (@privaterelay.appleid.com) are verified too.
        mapProfile: standardClaimsProfile,
      };
    case 'github':
      return {
        ...base,
        protocol: 'oauth2',
        endpoints: {
          issuer: null,
          authorizationUrl: 'https://github.com/login/oauth/authorize',
          tokenUrl: 'https://github.com/login/oauth/access_token',
          userinfoUrl: 'https://api.github.com/user',
        },
        userinfoHeaders: githubApiHeaders,
        scopes: config.scopes ?? ['read:user', 'user:email'],
        tokenEndpointAuthMethod: secretMethod('client_secret_post'),
        // The public address of /user is not known to be verified; /user/emails says which is.
        mapProfile: (user) => ({ id: user.id, email: user.email, emailVerified: false, name: user.name ?? user.login }),
        async completeProfile(profile, fetchJson) {
          const emails = await fetchJson('https://api.github.com/user/emails');
          const primary = Array.isArray(emails)
            ? (emails as unknown[]).find((entry) => valueAt(entry, 'primary') === true && valueAt(entry, 'verified') === true)
            : undefined;
          if (!primary) return profile;
          return toProfile({ id: profile.subject, email: valueAt(primary, 'email'), emailVerified: true, name: profile.name }) ?? profile;
        },
      };
    case 'discord':
      return {
        ...base,
        protocol: 'oauth2',
        endpoints: {
          issuer: null,
          authorizationUrl: 'https://discord.com/oauth2/authorize',
          tokenUrl: 'https://discord.com/api/oauth2/token',
          userinfoUrl: 'https://discord.com/api/users/@me',
        },
        scopes: config.scopes ?? ['identify', 'email'],
        tokenEndpointAuthMethod: secretMethod('client_secret_post'),
        mapProfile: (user) => ({ id: user.id, email: user.email, emailVerified: user.verified, name: user.global_name ?? user.username }),
      };
    case 'oidc':
      return {
        ...base,
        protocol: 'oidc',
        issuer: config.issuer,
        scopes: config.scopes ?? ['openid', 'email', 'profile'],
        // RFC 6749 §2.3.1: every authorization server supports HTTP Basic for client secrets.
        tokenEndpointAuthMethod: secretMethod('client_secret_basic'),
        mapProfile: standardClaimsProfile,
      };
    case 'oauth2': {
      const profile = config.profile;
      return {
        ...base,
        protocol: 'oauth2',
        endpoints: {
          issuer: config.issuer ?? null,
          authorizationUrl: config.authorizationUrl,
          tokenUrl: config.tokenUrl,
          userinfoUrl: config.userinfoUrl,
        },
        scopes: config.scopes,
        tokenEndpointAuthMethod: secretMethod('client_secret_basic'),
        mapProfile: (raw) => {
          if ('safeParse' in profile) {
            const parsed = profile.safeParse(raw);
            return parsed.success ? parsed.data : {};
          }
          return {
            id: valueAt(raw, profile.id),
            email: profile.email ? valueAt(raw, profile.email) : undefined,
            emailVerified: profile.emailVerified === true ? true : profile.emailVerified ? valueAt(raw, profile.emailVerified) : false,
            name: profile.name ? valueAt(raw, profile.name) : undefined,
          };
        },
      };
    }
  }
}

/**
 * Sign in with Apple's client secret: an ES256 JWT signed with the service's key, at most 6
 * months valid (Apple, "Creating a client secret"). Made for an hour and reused until 5
 * minutes before it ends.
 */
function appleClientSecret(input: { teamId: string; keyId: string; privateKey: string; clientId: string }): () => Promise<string> {
  let cached: { value: string; expiresAtInMs: number } | null = null;
  let key: Promise<CryptoKey> | null = null;
  return async () => {
    const nowInMs = Date.now();
    if (cached && cached.expiresAtInMs - 5 * 60_000 > nowInMs) return cached.value;
    key ??= importPKCS8(input.privateKey, 'ES256');
    const issuedAt = Math.floor(nowInMs / 1000);
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: input.keyId })
      .setIssuer(input.teamId)
      .setSubject(input.clientId)
      .setAudience('https://appleid.apple.com')
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(await key);
    cached = { value, expiresAtInMs: (issuedAt + 3600) * 1000 };
    return value;
  };
}
