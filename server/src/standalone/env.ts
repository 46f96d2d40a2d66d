import { z } from 'zod';
import { parseHmacKeys } from '../modules/hmac/keys';
import { defaultLifetimes } from '../modules/lifetimes';
import { defaultMaxSessionsPerUser } from '../modules/sessions/sessions';
import { defaultTimeouts, maxTimeoutInMs } from '../modules/timeouts';

/** The reader of `process.env` (besides NODE_ENV for library mode in ../environment.ts): everything the standalone server takes, validated. */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const milliseconds = (fallback: number) => z.coerce.number().int().positive().max(maxTimeoutInMs).default(fallback);

function namesDatabase(url: string): boolean {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\/+/, '')).trim() !== '';
  } catch {
    return false;
  }
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  IAM_ISSUER: optionalString,
  IAM_AUDIENCE: optionalString,
  IAM_SECRET: optionalString.pipe(z.string().min(32, 'IAM_SECRET must be at least 32 bytes').optional()),
  IAM_DATA_DIR: z.string().default('.data'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .startsWith('mysql://', 'DATABASE_URL must be a mysql:// URL')
      .refine(namesDatabase, 'DATABASE_URL must name a database, e.g. mysql://user:password@host:3306/iam')
      .optional(),
  ),
  // How long a start waits for a database that does not answer yet, retrying with backoff.
  DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().nonnegative().default(60),
  REDIS_URL: optionalString,
  TRUST_PROXY: optionalString,
  RESEND_API_KEY: optionalString,
  RESEND_BASE_URL: optionalString,
  MAIL_FROM: optionalString,
  // `resend` (needs RESEND_API_KEY) or `outbox` (one JSON file per message under IAM_DATA_DIR/outbox).
  // Default: resend with a key; without one, outbox outside production and a refused start in it.
  MAIL_TRANSPORT: optionalString.pipe(z.enum(['resend', 'outbox']).optional()),
  // `off` turns the online breach check off (the offline list still applies). Default: the
  // library's, https://api.pwnedpasswords.com in production and off otherwise.
  HIBP_API_URL: optionalString,
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
  /** `true`: `GET /metrics` answers anyone, in production too (behind a network that keeps it private). */
  METRICS_PUBLIC: optionalString.pipe(
    z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Tracing (docs/operations.md): on when an OTLP endpoint is set; the OpenTelemetry SDK reads
  // these and the rest of its standard OTEL_* variables (headers, service name, batching) itself.
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.pipe(z.url().optional()),
  OTEL_SDK_DISABLED: optionalString.pipe(
    z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional(),
  ),
});

export type Env = z.infer<typeof envSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`Invalid environment:\n${problems}`);
  }
  if (parsed.data.NODE_ENV === 'production') {
    const missing: string[] = [];
    if (!parsed.data.IAM_SECRET) missing.push('IAM_SECRET (at least 32 bytes) is required when NODE_ENV=production.');
    if (!parsed.data.DATABASE_URL) {
      missing.push(
        'DATABASE_URL (mysql://user:password@host:3306/iam) is required when NODE_ENV=production; the embedded database is for development only.',
      );
    }
    if (missing.length > 0) throw new Error(missing.join('\n'));
  }
  return parsed.data;
}

/** What the standalone service does with its environment beyond passing it on, and what it warns about at start. */
export interface ServiceSettings {
  mailTransport: 'resend' | 'outbox';
  /** As the app's `metrics` option takes it: `true` open, a string a bearer token, `false` closed. */
  metrics: boolean | string;
  /** One line each, logged at start. */
  warnings: string[];
  /** Spans are exported over OTLP/HTTP (an endpoint is set and the SDK is not disabled). */
  tracing: boolean;
}

/**
 * The service's production guardrails: without a mail provider it refuses to start (unless
 * MAIL_TRANSPORT=outbox says so on purpose), `/metrics` is closed unless a token or
 * METRICS_PUBLIC=true opens it, and plain-HTTP or missing PUBLIC_URL is warned about. Outside
 * production mail falls back to the file outbox and `/metrics` stays open as before.
 */
export function serviceSettingsOf(env: Env): ServiceSettings {
  const production = env.NODE_ENV === 'production';
  const warnings: string[] = [];
  let mailTransport = env.MAIL_TRANSPORT;
  if (mailTransport === 'resend' && !env.RESEND_API_KEY) throw new Error('MAIL_TRANSPORT=resend needs RESEND_API_KEY.');
  if (mailTransport === undefined) {
    if (env.RESEND_API_KEY) mailTransport = 'resend';
    else if (production) {
      throw new Error(
        'RESEND_API_KEY is required when NODE_ENV=production (or set MAIL_TRANSPORT=outbox to write mail to files on purpose).',
      );
    } else mailTransport = 'outbox';
  }
  if (production && mailTransport === 'outbox') {
    warnings.push(`MAIL_TRANSPORT=outbox: mail is written to files under ${env.IAM_DATA_DIR}/outbox, not sent to anyone.`);
  }
  if (production && env.PUBLIC_URL === undefined) {
    warnings.push(`PUBLIC_URL is not set: emailed links and cookies use http://localhost:${env.PORT}.`);
  } else if (production && env.PUBLIC_URL?.startsWith('http://')) {
    warnings.push(`PUBLIC_URL ${env.PUBLIC_URL} is plain http: cookies are not marked Secure and no HSTS is sent; use https.`);
  }
  const metrics = env.METRICS_TOKEN ?? env.METRICS_PUBLIC ?? !production;
  const tracing =
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined && env.OTEL_SDK_DISABLED !== true;
  return { mailTransport, metrics, warnings, tracing };
}

/** `TRUST_PROXY` as Express takes it: a hop count, true/false, or a list of addresses. */
export function parseTrustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
