import { readFileSync } from 'node:fs';
import { bffProcedureNames, stepUpActionSchema } from '@iam/shared';
import { z } from 'zod';
import type { IamConfig } from '../config';
import { checkNames, signInCheckNames } from '../modules/anomaly/config';
import { isHmacKeyId } from '../modules/hmac/keys';
import { oauthConfigSchema } from '../modules/oauth/config';
import { defaultLimits, type LimitName } from '../modules/rateLimit/limits';
import { webhooksConfigSchema } from '../modules/webhooks/config';

const limitOverride = z.strictObject({
  points: z.number().int().positive().optional(),
  durationInSeconds: z.number().int().positive().optional(),
  blockInSeconds: z.number().int().nonnegative().optional(),
});

const botCheckMode = z.enum(['off', 'under_attack', 'always']);

const limitNames = Object.keys(defaultLimits) as [LimitName, ...LimitName[]];

/**
 * `IAM_CONFIG_FILE`: structured settings (docs/api.md). Unknown keys inside known sections are
 * refused so a typo never silently leaves a default in force; sections for features this
 * version does not have are kept for them.
 */
const configFileSchema = z.looseObject({
  rateLimits: z
    .strictObject({
      ...Object.fromEntries(limitNames.map((name) => [name, limitOverride.optional()])),
      ipBlockLadderInSeconds: z.array(z.number().int().positive()).min(1).max(10).optional(),
    })
    .optional(),
  retention: z
    .strictObject({
      auditRetentionInDays: z.number().int().min(1).max(36_500).optional(),
      deviceRetentionInDays: z.number().int().min(1).max(36_500).optional(),
    })
    .optional(),
  passwordPolicy: z
    .strictObject({
      minLength: z.number().int().min(8).max(256).optional(),
      maxLength: z.number().int().min(8).max(256).optional(),
      extraBlockedWords: z.array(z.string().min(1).max(100)).max(10_000).optional(),
      breachCheckTimeoutInMs: z.number().int().positive().max(30_000).optional(),
    })
    .optional(),
  emailPolicy: z
    .strictObject({
      allowDomains: z.array(z.string().min(1).max(253)).optional(),
      blockDomains: z.array(z.string().min(1).max(253)).optional(),
      dnsTimeoutInMs: z.number().int().positive().max(30_000).optional(),
      mxCheck: z.boolean().optional(),
    })
    .optional(),
  // Social sign-in: providers, the returnTo allowlist (docs/api.md; see modules/oauth/config.ts).
  oauth: oauthConfigSchema.optional(),
  // The host app's own actions that take a step-up (besides email_change and totp_disable).
  stepUpActions: z.array(stepUpActionSchema).max(100).optional(),
  anomaly: z
    .strictObject({
      modes: z.strictObject(Object.fromEntries(checkNames.map((name) => [name, z.enum(['enforce', 'log', 'off']).optional()]))).optional(),
      signInModes: z
        .strictObject(Object.fromEntries(signInCheckNames.map((name) => [name, z.enum(['enforce', 'log', 'off']).optional()])))
        .optional(),
      idleChallengeInSeconds: z.number().int().positive().optional(),
      maxActiveSessionsPerUser: z.number().int().positive().optional(),
      maxRefreshesPerSession: z.number().int().positive().optional(),
      refreshWindowInSeconds: z.number().int().positive().optional(),
      networkPrefixes: z.strictObject({ ipv4: z.number().int().min(0).max(32), ipv6: z.number().int().min(0).max(128) }).optional(),
      maxTravelSpeedInKmPerHour: z.number().positive().optional(),
      minTravelDistanceInKm: z.number().nonnegative().optional(),
      fingerprintAttributes: z.array(z.enum(['country', 'city', 'browser', 'os', 'deviceType'])).optional(),
      hostingAsns: z.array(z.number().int().positive()).max(100_000).optional(),
    })
    .optional(),
  // Proof-of-work bot checks: a mode per procedure, and the work asked.
  botCheck: z
    .strictObject({
      signup: botCheckMode.optional(),
      login: botCheckMode.optional(),
      requestPasswordReset: botCheckMode.optional(),
      requestSignIn: botCheckMode.optional(),
      maxNumber: z.number().int().min(1_000).max(10_000_000).optional(),
    })
    .optional(),
  // Security-event webhooks: endpoints, their whsec_ secrets and events (docs/api.md, webhooks).
  webhooks: webhooksConfigSchema.optional(),
  // Per-key allowlists of the procedures a key of HMAC_KEYS may call (default: every bff.*).
  hmac: z
    .strictObject({
      keys: z.record(
        z.string().refine(isHmacKeyId, 'not a key id'),
        z.strictObject({ procedures: z.array(z.enum([...bffProcedureNames, 'bff.*'])).max(32) }),
      ),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

export function loadConfigFile(path: string | undefined): ConfigFile {
  if (!path) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`IAM_CONFIG_FILE ${path} cannot be read as JSON: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`IAM_CONFIG_FILE ${path} is not valid:\n${problems}`);
  }
  return parsed.data;
}

/** The `botCheck` section as the service takes it: the modes, and the work. */
export function botCheckOf(section: ConfigFile['botCheck']): IamConfig['botCheck'] {
  if (!section) return undefined;
  const { maxNumber, ...modes } = section;
  return { modes, ...(maxNumber ? { maxNumber } : {}) };
}
