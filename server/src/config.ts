import type { Logger } from 'pino';
import type { Environment } from './environment';
import type { AnomalyOverrides } from './modules/anomaly/config';
import type { BotCheckOverrides } from './modules/botCheck/botCheck';
import type { Clock } from './modules/clock';
import type { HmacKeyConfig } from './modules/hmac/keys';
import type { Lifetimes } from './modules/lifetimes';
import type { OAuthConfig } from './modules/oauth/config';
import type { LimitOverrides } from './modules/rateLimit/limits';
import type { Timeouts } from './modules/timeouts';
import type { WebhookEndpointConfig } from './modules/webhooks/config';

/**
 * Everything the service needs to run; `env.ts` builds it from the environment in standalone mode.
 * `createIamServer` checks every option against `configSchema.ts` before it starts.
 */
export interface IamConfig {
  /** Base of every emailed link and the default `iss` / `aud` (never taken from a `Host` header). */
  publicUrl: string;
  issuer?: string;
  audience?: string;
  /** Master secret (≥ 32 bytes) that encrypts signing keys and keys code hashes. */
  secret: string;
  databaseUrl: string;
  /** Optional Redis/Valkey (`redis://…`): rate limits, HMAC nonces and revocation fan-out move there. */
  redisUrl?: string;
  /** How long data no longer needed is kept (audit 400 days, devices 180 days by default). */
  retention?: { auditRetentionInDays?: number; deviceRetentionInDays?: number };
  /**
   * How long the service waits on the database and on itself before it answers
   * (docs/operations.md, timeouts and deadlines): `databaseQueryInMs` each query and the wait for
   * a connection (default 5 s), `requestDeadlineInMs` each procedure call, answered 503
   * `SERVICE_UNAVAILABLE` past it (default 10 s), `readinessInMs` the database check of
   * `/readyz` (default 1.5 s).
   */
  timeouts?: Partial<Timeouts>;
  /** How often each instance's outbox worker looks for due messages (default 1 s). */
  outboxPollIntervalInMs?: number;
  /** How often each instance reads revocations from the database (default 1 s). */
  revocationPollIntervalInMs?: number;
  /** How often each instance reads which users changed, to forget its cached rows of them (default 1 s). */
  userCachePollIntervalInMs?: number;
  /** Where the dev outbox lives. */
  dataDir: string;
  /** Express `trust proxy`; without it `X-Forwarded-For` is ignored. */
  trustProxy?: boolean | number | string;
  /** Defaults to true when `publicUrl` is https: `__Host-` cookie names, `Secure`, HSTS. */
  secureCookies?: boolean;
  /**
   * `transport`: `resend` (needs `resendApiKey`) or `outbox` (one JSON file per message under
   * `dataDir/outbox`, even with a key); default `resend` with a key, else `outbox`, which
   * production refuses unless it is chosen here (as `MAIL_TRANSPORT`).
   */
  mail?: { resendApiKey?: string; resendBaseUrl?: string; from?: string; transport?: 'resend' | 'outbox' };
  lifetimes?: Partial<Lifetimes>;
  /** Live sessions one user may hold; a sign-in past it signs out the least recently used and mails the owner (default 50). */
  maxSessionsPerUser?: number;
  /** Signing keys rotate this often (default 30 days; 0 turns scheduled rotation off). */
  signingKeyRotationInSeconds?: number;
  /** Keys services sign `bff.*` requests with (`HMAC_KEYS`), each with an optional procedure allowlist. */
  hmacKeys?: HmacKeyConfig[];
  /**
   * Proof-of-work bot checks per procedure (`off | under_attack | always`, default
   * `under_attack`) and their work (`maxNumber`, default 50,000); see `modules/botCheck`.
   */
  botCheck?: BotCheckOverrides;
  /** Origins passkey ceremonies may come from (`WEBAUTHN_ORIGINS`); default the origin of `publicUrl`. The RP ID is `publicUrl`'s host. */
  webauthnOrigins?: string[];
  /** Modes and thresholds of the anomaly checks (see `modules/anomaly/config.ts`). */
  anomaly?: AnomalyOverrides;
  /**
   * Your own actions that take a step-up (`mfa.stepUp.begin({ action })`, then
   * `iam.requireStepUp`), besides the built-in `email_change` and `totp_disable`.
   */
  stepUpActions?: string[];
  /**
   * Social sign-in (docs/api.md, `oauth` of IAM_CONFIG_FILE): providers (presets `google`, `github`,
   * `microsoft`, `apple`, `discord`; any `oidc` issuer; any `oauth2` endpoints with a profile
   * map or, here, a zod schema), the `returnTo` allowlist and the default return address.
   */
  oauth?: OAuthConfig;
  /**
   * Security-event webhooks (docs/api.md, webhooks; `webhooks` of IAM_CONFIG_FILE): each endpoint
   * is an https URL (plain http for loopback hosts only), a `whsec_…` secret the deliveries are
   * signed with (Standard Webhooks), and the events it takes. Validated at start-up.
   */
  webhooks?: WebhookEndpointConfig[];
  /** Overrides of the rate limits (see `modules/rateLimit/limits.ts`). */
  rateLimits?: LimitOverrides;
  productName?: string;
  /**
   * `development`, `production` or `test`: picks the defaults (docs/operations.md, library
   * defaults), as NODE_ENV does for the standalone service. Default: `process.env.NODE_ENV`,
   * `development` when unset (warned about at start).
   */
  environment?: Environment;
  /** Resolvers (`ip:port`) for the MX check of addresses; default the OS resolver. Setting them turns the MX check on in every environment. */
  dnsServers?: string[];
  /**
   * Base of the Pwned Passwords range API; `'off'` (as `HIBP_API_URL=off`) or null turns the
   * online breach check off (the offline checks stay). Default: `https://api.pwnedpasswords.com`
   * in production, off otherwise.
   */
  hibpApiUrl?: string | 'off' | null;
  passwordPolicy?: { minLength?: number; maxLength?: number; extraBlockedWords?: string[]; breachCheckTimeoutInMs?: number };
  /** `mxCheck`: ask DNS whether an address's domain accepts mail (default: on in production or with `dnsServers`, else off). */
  emailPolicy?: { allowDomains?: string[]; blockDomains?: string[]; dnsTimeoutInMs?: number; mxCheck?: boolean };
  logger?: Logger;
  clock?: Clock;
}
