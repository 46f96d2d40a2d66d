import { stepUpActionSchema } from '@iam/shared';
import { z } from 'zod';
import { environments } from './environment';
import { checkNames, signInCheckNames } from './modules/anomaly/config';
import { botCheckedProcedures } from './modules/botCheck/botCheck';
import { isBffProcedurePattern, isHmacKeyId } from './modules/hmac/keys';
import { oauthConfigSchema } from './modules/oauth/config';
import { defaultLimits, type LimitName } from './modules/rateLimit/limits';
import { maxTimeoutInMs } from './modules/timeouts';
import { webhooksConfigSchema } from './modules/webhooks/config';

/**
 * The options of `createIamServer` (`IamConfig` and the app's options), checked before anything
 * starts. The sections the config file shares with them (IAM_CONFIG_FILE) are defined here once.
 */

const limitOverride = z.strictObject({
  points: z.number().int().positive().optional(),
  durationInSeconds: z.number().int().positive().optional(),
  blockInSeconds: z.number().int().nonnegative().optional(),
});

const limitNames = Object.keys(defaultLimits) as [LimitName, ...LimitName[]];

export const rateLimitsSchema = z.strictObject({
  ...Object.fromEntries(limitNames.map((name) => [name, limitOverride.optional()])),
  ipBlockLadderInSeconds: z.array(z.number().int().positive()).min(1).max(10).optional(),
});

export const retentionSchema = z.strictObject({
  auditRetentionInDays: z.number().int().min(1).max(36_500).optional(),
  deviceRetentionInDays: z.number().int().min(1).max(36_500).optional(),
});

export const passwordPolicySchema = z.strictObject({
  minLength: z.number().int().min(8).max(256).optional(),
  maxLength: z.number().int().min(8).max(256).optional(),
  extraBlockedWords: z.array(z.string().min(1).max(100)).max(10_000).optional(),
  breachCheckTimeoutInMs: z.number().int().positive().max(30_000).optional(),
});

export const emailPolicySchema = z.strictObject({
  allowDomains: z.array(z.string().min(1).max(253)).optional(),
  blockDomains: z.array(z.string().min(1).max(253)).optional(),
  dnsTimeoutInMs: z.number().int().positive().max(30_000).optional(),
  mxCheck: z.boolean().optional(),
});

const checkMode = z.enum(['enforce', 'log', 'off']);

export const anomalySchema = z.strictObject({
  modes: z.strictObject(Object.fromEntries(checkNames.map((name) => [name, checkMode.optional()]))).optional(),
  signInModes: z.strictObject(Object.fromEntries(signInCheckNames.map((name) => [name, checkMode.optional()]))).optional(),
  idleChallengeInSeconds: z.number().int().positive().optional(),
  maxActiveSessionsPerUser: z.number().int().positive().optional(),
  maxRefreshesPerSession: z.number().int().positive().optional(),
  refreshWindowInSeconds: z.number().int().positive().optional(),
  networkPrefixes: z.strictObject({ ipv4: z.number().int().min(0).max(32), ipv6: z.number().int().min(0).max(128) }).optional(),
  maxTravelSpeedInKmPerHour: z.number().positive().optional(),
  minTravelDistanceInKm: z.number().nonnegative().optional(),
  fingerprintAttributes: z.array(z.enum(['country', 'city', 'browser', 'os', 'deviceType'])).optional(),
  hostingAsns: z.array(z.number().int().positive()).max(100_000).optional(),
});

export const botCheckModeSchema = z.enum(['off', 'under_attack', 'always']);

/** Work of the proof of work: the config file's range. */
export const botCheckMaxNumberSchema = z.number().int().min(1_000).max(10_000_000);

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' });

function namesDatabase(url: string): boolean {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\/+/, '')).trim() !== '';
  } catch {
    return false;
  }
}

const positiveInteger = z.number().int().positive();
const timeoutInMs = z.number().int().min(1).max(maxTimeoutInMs);
/** `ip:port`, `[ipv6]:port`, or an address alone (port 53). */
const dnsServer = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]+)(:\d{1,5})?$/, 'must be an ip:port resolver address');

const isFunction = (value: unknown): boolean => typeof value === 'function';
const hasMethods =
  (...names: string[]) =>
  (value: unknown): boolean =>
    typeof value === 'object' && value !== null && names.every((name) => isFunction((value as Record<string, unknown>)[name]));

export const iamOptionsSchema = z.strictObject({
  publicUrl: httpUrl,
  issuer: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
  // The message never repeats the value: it is a secret.
  secret: z
    .string({ message: 'must be a string of at least 32 bytes' })
    .refine((value) => Buffer.byteLength(value, 'utf8') >= 32, 'must be at least 32 bytes'),
  databaseUrl: z
    .string()
    .startsWith('mysql://', 'must be a mysql:// URL')
    .refine(namesDatabase, 'must name a database, e.g. mysql://user:password@host:3306/iam'),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  retention: retentionSchema.optional(),
  timeouts: z
    .strictObject({
      databaseQueryInMs: timeoutInMs.optional(),
      requestDeadlineInMs: timeoutInMs.optional(),
      readinessInMs: timeoutInMs.optional(),
    })
    .optional(),
  outboxPollIntervalInMs: positiveInteger.optional(),
  revocationPollIntervalInMs: positiveInteger.optional(),
  userCachePollIntervalInMs: positiveInteger.optional(),
  dataDir: z.string().min(1),
  trustProxy: z.union([z.boolean(), z.number().int().nonnegative(), z.string().min(1)]).optional(),
  secureCookies: z.boolean().optional(),
  mail: z
    .strictObject({
      resendApiKey: z.string().min(1).optional(),
      resendBaseUrl: httpUrl.optional(),
      from: z.string().min(1).optional(),
      transport: z.enum(['resend', 'outbox']).optional(),
    })
    .optional(),
  lifetimes: z
    .strictObject({
      accessTokenTtlInSeconds: positiveInteger.optional(),
      refreshGraceInSeconds: z.number().int().nonnegative().optional(),
      sessionIdleInSeconds: positiveInteger.optional(),
      sessionMaxInSeconds: positiveInteger.optional(),
      codeTtlInSeconds: positiveInteger.optional(),
      linkTtlInSeconds: positiveInteger.optional(),
    })
    .optional(),
  maxSessionsPerUser: z.number().int().min(1).max(10_000).optional(),
  signingKeyRotationInSeconds: z.number().int().nonnegative().optional(),
  hmacKeys: z
    .array(
      z.strictObject({
        id: z.string().refine(isHmacKeyId, 'not a key id (printable ASCII without "," and ":")'),
        secret: z.string().min(1, 'must not be empty'),
        procedures: z.array(z.string().refine(isBffProcedurePattern, 'not a bff.* procedure')).optional(),
      }),
    )
    .superRefine((keys, ctx) => {
      const seen = new Set<string>();
      keys.forEach((key, index) => {
        if (seen.has(key.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `key ${key.id} is listed twice` });
        seen.add(key.id);
      });
    })
    .optional(),
  botCheck: z
    .strictObject({
      modes: z.strictObject(Object.fromEntries(botCheckedProcedures.map((name) => [name, botCheckModeSchema.optional()]))).optional(),
      maxNumber: botCheckMaxNumberSchema.optional(),
    })
    .optional(),
  webauthnOrigins: z.array(httpUrl).optional(),
  anomaly: anomalySchema.optional(),
  stepUpActions: z.array(stepUpActionSchema).max(100).optional(),
  oauth: oauthConfigSchema.optional(),
  webhooks: webhooksConfigSchema.optional(),
  rateLimits: rateLimitsSchema.optional(),
  productName: z.string().min(1).max(100).optional(),
  environment: z.enum(environments).optional(),
  dnsServers: z.array(dnsServer).optional(),
  // `off` as HIBP_API_URL takes it, or null: no online breach check (the offline checks stay).
  hibpApiUrl: z
    .custom<string | null>(
      (value) => value === null || value === 'off' || httpUrl.safeParse(value).success,
      "must be an http(s) URL, 'off' or null",
    )
    .optional(),
  passwordPolicy: passwordPolicySchema.optional(),
  emailPolicy: emailPolicySchema.optional(),
  logger: z.custom(hasMethods('info', 'warn', 'error', 'child'), 'must be a pino logger').optional(),
  clock: z.custom(hasMethods('now'), 'must be a clock: an object with now(): Date').optional(),
  // The express app's options.
  corsOrigins: z.array(httpUrl).optional(),
  metrics: z.union([z.boolean(), z.string().min(1)], { message: 'must be true, false or a bearer token' }).optional(),
  linkPages: z.boolean().optional(),
  httpLogging: z.boolean().optional(),
  restApi: z.boolean().optional(),
  console: z.boolean().optional(),
  migrate: z.boolean().optional(),
});

/** Throws an Error naming each problem of the options, one line each: `  path: problem`. */
export function assertValidIamOptions(options: unknown): void {
  const parsed = iamOptionsSchema.safeParse(options);
  if (parsed.success) return;
  const lines: string[] = [];
  for (const issue of parsed.error.issues) {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`  ${[...at, key].join('.')}: unknown option`);
    } else lines.push(`  ${at.length > 0 ? at.join('.') : '(options)'}: ${issue.message}`);
  }
  throw new Error(`Invalid createIamServer options:\n${lines.join('\n')}`);
}
