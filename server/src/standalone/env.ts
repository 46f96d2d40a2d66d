import { z } from 'zod';
import { parseHmacKeys } from '../modules/hmac/keys';
import { defaultLifetimes } from '../modules/lifetimes';
import { defaultMaxSessionsPerUser } from '../modules/sessions/sessions';
import { defaultTimeouts, maxTimeoutInMs } from '../modules/timeouts';

/** The only reader of `process.env`: everything the standalone server takes, validated. */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const milliseconds = (fallback: number) => z.coerce.number().int().positive().max(maxTimeoutInMs).default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  IAM_ISSUER: optionalString,
  IAM_AUDIENCE: optionalString,
  IAM_SECRET: optionalString.pipe(z.string().min(32, 'IAM_SECRET must be at least 32 bytes').optional()),
  IAM_DATA_DIR: z.string().default('.data'),
  DATABASE_URL: optionalString.pipe(z.string().startsWith('mysql://', 'DATABASE_URL must be a mysql:// URL').optional()),
  REDIS_URL: optionalString,
  TRUST_PROXY: optionalString,
  RESEND_API_KEY: optionalString,
  RESEND_BASE_URL: optionalString,
  MAIL_FROM: optionalString,
  // `off` turns the online breach check off (the offline list still applies).
  HIBP_API_URL: z.string().default('https://api.pwnedpasswords.com'),
  ACCESS_TOKEN_TTL_SECONDS: seconds(defaultLifetimes.accessTokenTtlInSeconds),
  REFRESH_GRACE_SECONDS: seconds(defaultLifetimes.refreshGraceInSeconds),
  SESSION_IDLE_SECONDS: seconds(defaultLifetimes.sessionIdleInSeconds),
  SESSION_MAX_SECONDS: seconds(defaultLifetimes.sessionMaxInSeconds),
  MAX_SESSIONS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(defaultMaxSessionsPerUser),
  SIGNING_KEY_ROTATION_SECONDS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(30 * 24 * 3600),
  // docs/operations.md, timeouts and deadlines.
  DB_QUERY_TIMEOUT_MS: milliseconds(defaultTimeouts.databaseQueryInMs),
  REQUEST_DEADLINE_MS: milliseconds(defaultTimeouts.requestDeadlineInMs),
  READINESS_TIMEOUT_MS: milliseconds(defaultTimeouts.readinessInMs),
  DNS_SERVERS: optionalString,
  // `keyId:secret` pairs, comma-separated; a mistake is reported without the secrets.
  HMAC_KEYS: optionalString.transform((value, ctx) => {
    try {
      return parseHmacKeys(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  IAM_CONFIG_FILE: optionalString,
  CORS_ORIGINS: optionalString,
  // Origins passkey ceremonies may come from, comma-separated (default: PUBLIC_URL's origin).
  WEBAUTHN_ORIGINS: optionalString,
  /** When set, `GET /metrics` requires `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`Invalid environment:\n${problems}`);
  }
  if (parsed.data.NODE_ENV === 'production' && !parsed.data.IAM_SECRET) {
    throw new Error('IAM_SECRET (at least 32 bytes) is required when NODE_ENV=production.');
  }
  return parsed.data;
}

/** `TRUST_PROXY` as Express takes it: a hop count, true/false, or a list of addresses. */
export function parseTrustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
