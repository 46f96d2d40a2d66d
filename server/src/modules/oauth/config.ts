import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The `oauth` section of IAM_CONFIG_FILE (docs/api.md) and of `IamConfig` in library mode: the
 * sign-in providers, the `returnTo` allowlist, and a few knobs. Validated at start-up, so a
 * typo or an unsafe setting stops the service instead of weakening it silently.
 */

/** A provider's id: the `provider` of every oauth procedure and the last segment of its callback path. */
export const providerIdPattern = /^[a-z][a-z0-9_-]{0,31}$/;

const presetTypes = ['google', 'github', 'microsoft', 'apple', 'discord'] as const;
export type PresetType = (typeof presetTypes)[number];

const providerId = z.string().regex(providerIdPattern, 'lowercase letters, digits, "_" or "-", at most 32, starting with a letter');
const httpUrl = z.url({ protocol: /^https?$/, message: 'an absolute http(s) URL' }).max(2048);
const scope = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'one scope token (RFC 6749 §3.3)');
/** A dot path into the provider's profile JSON, e.g. `id`, `data.email`. */
const profilePath = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9_$@-]+(?:\.[A-Za-z0-9_$@-]+)*$/, 'a dot path such as "id" or "data.email"');

/** Parameters the flow sets itself; a provider's extra authorization parameters may not override them. */
const reservedParameters = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
]);

const common = {
  /** Shown by `oauth.providers`; defaults to the preset's name, or the id. */
  name: z.string().trim().min(1).max(64).optional(),
  clientId: z.string().min(1).max(512),
  /** Omit for a public client (PKCE alone authenticates the code exchange). */
  clientSecret: z.string().min(1).max(8192).optional(),
  /** Default `${PUBLIC_URL}/oauth/callback/<id>`, served by the service (GET, and POST for form_post). */
  redirectUri: httpUrl.optional(),
  /** Plain-HTTP provider endpoints, honoured only for loopback hosts (tests, local development). */
  allowInsecureHttp: z.boolean().optional(),
  /** Replaces the preset's or type's scopes. */
  scopes: z.array(scope).min(1).max(50).optional(),
  /** Extra authorization request parameters, e.g. `{ "prompt": "select_account" }` or Google's `hd`. */
  authorizationParams: z
    .record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), z.string().max(512))
    .refine((parameters) => !Object.keys(parameters).some((name) => reservedParameters.has(name)), {
      message: `${[...reservedParameters].join(', ')} are set by the flow itself`,
    })
    .optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_post', 'client_secret_basic', 'none']).optional(),
};

/**
 * How a plain OAuth 2 provider's profile maps to ours: dot paths into its userinfo JSON.
 * `emailVerified` may be `true` when the operator knows the provider only hands out verified
 * addresses (a corporate directory); leave it out and every address counts as unverified.
 */
const profileFieldMap = z.strictObject({
  id: profilePath,
  email: profilePath.optional(),
  emailVerified: z.union([profilePath, z.literal(true)]).optional(),
  name: profilePath.optional(),
});

/** What a profile mapper (library mode: a zod schema over the provider's userinfo) must produce. */
export interface OAuthProfileInput {
  id: string | number;
  email?: string | null | undefined;
  emailVerified?: boolean | undefined;
  name?: string | null | undefined;
}

/** Library mode: a zod schema that parses the provider's userinfo JSON into our profile. */
export type OAuthProfileSchema = z.ZodType<OAuthProfileInput>;

const profileSchemaValue = z.custom<OAuthProfileSchema>((value) => value instanceof z.ZodType, 'a zod schema');

const presetProvider = <T extends PresetType, S extends z.ZodRawShape>(type: T, extra: S) =>
  z.strictObject({ type: z.literal(type), id: providerId.optional(), ...common, ...extra });

const providerSchema = z.discriminatedUnion('type', [
  presetProvider('google', {}),
  presetProvider('github', {}),
  presetProvider('discord', {}),
  // `common` (work, school and personal accounts), `organizations`, `consumers`, or a tenant id or domain.
  presetProvider('microsoft', {
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,128}$/)
      .optional(),
  }),
  // Apple's client secret is a JWT the service signs with the key of the Sign in with Apple service
  // (team id, key id, .p8 private key), or one signed elsewhere and given as `clientSecret`.
  presetProvider('apple', {
    teamId: z
      .string()
      .regex(/^[A-Z0-9]{10}$/)
      .optional(),
    keyId: z
      .string()
      .regex(/^[A-Z0-9]{10}$/)
      .optional(),
    privateKey: z.string().min(1).max(8192).optional(),
  }),
  z.strictObject({ type: z.literal('oidc'), id: providerId, ...common, issuer: httpUrl }),
  z.strictObject({
    type: z.literal('oauth2'),
    id: providerId,
    ...common,
    authorizationUrl: httpUrl,
    tokenUrl: httpUrl,
    userinfoUrl: httpUrl,
    scopes: z.array(scope).max(50),
    profile: z.union([profileFieldMap, profileSchemaValue]),
    /** RFC 9207: the provider's issuer identifier, when it returns `iss` with the code. */
    issuer: httpUrl.optional(),
  }),
]);

/** A `returnTo` allowlist entry: an absolute http(s) URL without fragment; a trailing `/` makes it a prefix. */
const allowlistEntry = httpUrl.refine((value) => !value.includes('#'), 'no fragment');

export const oauthConfigSchema = z
  .strictObject({
    providers: z.array(providerSchema).max(50),
    returnToAllowlist: z.array(allowlistEntry).max(100).optional(),
    /** Where the GET callback route sends the browser when the flow named no `returnTo`. */
    defaultReturnTo: allowlistEntry.optional(),
    /** Each request to a provider gives up after this long (default 10 s). */
    providerTimeoutInMs: z.number().int().positive().max(60_000).optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.providers.forEach((provider, index) => {
      const id = provider.id ?? provider.type;
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['providers', index, 'id'], message: `duplicate provider id "${id}"` });
      seen.add(id);
      for (const problem of insecureUrlProblems(provider)) {
        ctx.addIssue({ code: 'custom', path: ['providers', index, problem.field], message: problem.message });
      }
      if (provider.type === 'apple' && !provider.clientSecret && !(provider.teamId && provider.keyId && provider.privateKey)) {
        ctx.addIssue({ code: 'custom', path: ['providers', index], message: 'Apple needs teamId, keyId and privateKey, or clientSecret' });
      }
    });
    if (config.defaultReturnTo && !matchesReturnToAllowlist(config.returnToAllowlist ?? [], config.defaultReturnTo)) {
      ctx.addIssue({ code: 'custom', path: ['defaultReturnTo'], message: 'must match the returnTo allowlist' });
    }
  });

/** `oauth` of `IamConfig` (library mode) and of IAM_CONFIG_FILE. */
export type OAuthConfig = z.input<typeof oauthConfigSchema>;
export type OAuthProviderConfig = z.output<typeof providerSchema>;
export type ParsedOAuthConfig = z.output<typeof oauthConfigSchema>;

/** Parses and checks an `oauth` section; throws an Error that names every problem. */
export function parseOAuthConfig(config: unknown): ParsedOAuthConfig {
  const parsed = oauthConfigSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  oauth.${issue.path.join('.')}: ${issue.message}`).join('\n');
  throw new Error(`The oauth configuration is not valid:\n${problems}`);
}

/**
 * Loopback hosts: 127.0.0.0/8, ::1 and `localhost` (RFC 8252 §8.3; RFC 6761 §6.3). Only
 * there may a provider be reached over plain HTTP.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host.toLowerCase() === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Plain-HTTP endpoints need `allowInsecureHttp`, which is honoured only for loopback hosts (RFC 9700 §2.6: TLS everywhere else). */
function insecureUrlProblems(provider: OAuthProviderConfig): Array<{ field: string; message: string }> {
  const urls: Array<[string, string]> = [];
  if (provider.type === 'oidc') urls.push(['issuer', provider.issuer]);
  if (provider.type === 'oauth2') {
    urls.push(['authorizationUrl', provider.authorizationUrl], ['tokenUrl', provider.tokenUrl], ['userinfoUrl', provider.userinfoUrl]);
    if (provider.issuer) urls.push(['issuer', provider.issuer]);
  }
  const problems: Array<{ field: string; message: string }> = [];
  for (const [field, value] of urls) {
    const url = new URL(value);
    if (provider.allowInsecureHttp && !isLoopbackHost(url.hostname)) {
      problems.push({ field, message: 'allowInsecureHttp is honoured only for loopback hosts (127.0.0.0/8, ::1, localhost)' });
    } else if (url.protocol === 'http:' && !provider.allowInsecureHttp) {
      problems.push({ field, message: 'must be https (allowInsecureHttp: true is allowed for loopback hosts only)' });
    }
  }
  return problems;
}

/**
 * RFC 9700 §4.11 (open redirection): a `returnTo` is accepted only when an allowlist entry
 * matches it exactly, or is a prefix of it and ends with `/`. Both sides are compared in
 * their WHATWG-normalised form, so `..`, `%2e%2e`, default ports and case in the host cannot
 * walk out of an entry; userinfo, fragments and other schemes are refused outright.
 */
export function matchesReturnToAllowlist(allowlist: readonly string[], returnTo: string): boolean {
  const target = normalizedReturnTo(returnTo);
  if (!target) return false;
  return allowlist.some((entry) => {
    const normalized = normalizedReturnTo(entry);
    if (!normalized) return false;
    return entry.endsWith('/') ? target.startsWith(normalized) : target === normalized;
  });
}

function normalizedReturnTo(value: string): string | null {
  // Fragments, backslashes (read as `/` by browsers), spaces and control characters are never part of an allowed address.
  if (value.includes('#') || value.includes('\\') || [...value].some((char) => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f)) {
    return null;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return url.href;
}
