import type { Logger } from 'pino';
import type { Database, DatabasePools } from '../../db/client';
import type { ApiKeyService } from '../apiKeys/apiKeys';
import type { BotCheckService } from '../botCheck/botCheck';
import type { ChallengeService } from '../challenges/challenges';
import type { Clock } from '../clock';
import type { EmailPolicy } from '../email/emailPolicy';
import type { Mailer } from '../email/mailer';
import type { HmacService } from '../hmac/verifier';
import type { Lifetimes } from '../lifetimes';
import type { Metrics } from '../metrics';
import type { MfaService } from '../mfa/mfa';
import type { OAuthService } from '../oauth/service';
import type { OutboxWorker } from '../outbox/outbox';
import type { PasskeyService } from '../passkeys/passkeys';
import type { RateLimits } from '../rateLimit/rateLimiter';
import type { SessionService } from '../sessions/sessions';
import type { AccessTokenService } from '../tokens/accessToken';
import type { RevocationSet } from '../tokens/revocations';
import type { SigningKeyStore } from '../tokens/signingKeys';
import type { PasswordPolicy } from '../users/passwordPolicy';
import type { UserCache } from '../users/userCache';
import type { Webhooks } from '../webhooks/config';

/** The dependencies every domain function takes, built once by `createIamServer`. */
export interface Services {
  db: Database;
  pools: DatabasePools;
  clock: Clock;
  logger: Logger;
  mailer: Mailer;
  /** Delivers the queued mails (security alerts, notices) with retries, across restarts and instances. */
  outbox: OutboxWorker;
  /** The security-event webhook endpoints (`emitSecurityEvent` in modules/webhooks queues their events). */
  webhooks: Webhooks;
  keys: SigningKeyStore;
  accessTokens: AccessTokenService;
  revocations: RevocationSet;
  /**
   * User rows in memory for reads that may be a second old on other instances (`auth.me`);
   * a flow that changes a user calls `users.invalidate(id)` once the change has committed.
   */
  users: UserCache;
  sessions: SessionService;
  /** Passkeys: WebAuthn ceremonies and credentials. */
  passkeys: PasskeyService;
  /** Users' API keys for their scripts: created, listed, revoked, verified (only their hashes kept). */
  apiKeys: ApiKeyService;
  /** Proof-of-work bot checks (ALTCHA): issues challenges, redeems solutions once. */
  botCheck: BotCheckService;
  challenges: ChallengeService;
  /** TOTP enrolment and second-factor checks (secrets sealed, backup codes keyed-hashed). */
  mfa: MfaService;
  limits: RateLimits;
  metrics: Metrics;
  emailPolicy: EmailPolicy;
  passwordPolicy: PasswordPolicy;
  /** Verifies HMAC-signed service requests (`bff.*`). */
  hmac: HmacService;
  /** Social sign-in: the configured providers and the `returnTo` allowlist. */
  oauth: OAuthService;
  settings: Settings;
}

export interface Settings {
  publicUrl: string;
  productName: string;
  lifetimes: Lifetimes;
  secureCookies: boolean;
  /** Actions `mfa.stepUp.begin` accepts: the built-in ones and those of `stepUpActions` in the config. */
  stepUpActions: readonly string[];
  /** A procedure call not done by then is answered 503 `SERVICE_UNAVAILABLE` (docs/operations.md, timeouts and deadlines). */
  requestDeadlineInMs: number;
}

/** A page under PUBLIC_URL (never the request's `Host`, which an attacker controls). */
export function pageUrl(settings: Settings, path: string): URL {
  return new URL(path, settings.publicUrl.endsWith('/') ? settings.publicUrl : `${settings.publicUrl}/`);
}

/** An emailed link: its secret travels in the `token` query parameter under PUBLIC_URL. */
export function emailLink(settings: Settings, path: string, token: string): string {
  const url = pageUrl(settings, path);
  url.searchParams.set('token', token);
  return url.toString();
}
