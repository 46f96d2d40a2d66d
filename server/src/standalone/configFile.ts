import { readFileSync } from 'node:fs';
import { bffProcedureNames, stepUpActionSchema } from '@iam/shared';
import { z } from 'zod';
import type { IamConfig } from '../config';
import {
  anomalySchema,
  botCheckMaxNumberSchema,
  botCheckModeSchema as botCheckMode,
  emailPolicySchema,
  passwordPolicySchema,
  rateLimitsSchema,
  retentionSchema,
} from '../configSchema';
import { isHmacKeyId } from '../modules/hmac/keys';
import { oauthConfigSchema } from '../modules/oauth/config';
import { webhooksConfigSchema } from '../modules/webhooks/config';

/**
 * `IAM_CONFIG_FILE`: structured settings (docs/api.md). Unknown keys inside known sections are
 * refused so a typo never silently leaves a default in force; sections for features this
 * version does not have are kept for them.
 */
const configFileSchema = z.looseObject({
  rateLimits: rateLimitsSchema.optional(),
  retention: retentionSchema.optional(),
  passwordPolicy: passwordPolicySchema.optional(),
  emailPolicy: emailPolicySchema.optional(),
  // Social sign-in: providers, the returnTo allowlist (docs/api.md; see modules/oauth/config.ts).
  oauth: oauthConfigSchema.optional(),
  // The host app's own actions that take a step-up (besides email_change and totp_disable).
  stepUpActions: z.array(stepUpActionSchema).max(100).optional(),
  anomaly: anomalySchema.optional(),
  // Proof-of-work bot checks: a mode per procedure, and the work asked.
  botCheck: z
    .strictObject({
      signup: botCheckMode.optional(),
      login: botCheckMode.optional(),
      requestPasswordReset: botCheckMode.optional(),
      requestSignIn: botCheckMode.optional(),
      maxNumber: botCheckMaxNumberSchema.optional(),
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
