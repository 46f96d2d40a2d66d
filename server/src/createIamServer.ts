import path from 'node:path';
import { passwordMaxLength, passwordMinLength } from '@iam/shared';
import type express from 'express';
import type { Logger } from 'pino';
import type { IamConfig } from './config';
import { assertValidIamOptions } from './configSchema';
import { createDatabasePools } from './db/client';
import { applyMigrations } from './db/migrate';
import { createRedisClient } from './db/redis';
import { environmentDefaults, environmentOfProcess, rateLimitsFor } from './environment';
import { type AppOptions, createApp } from './http/app';
import { createRequireAuth, createTrpcGuard } from './http/guards';
import { createLogger } from './logger';
import { resolveAnomalyConfig } from './modules/anomaly/config';
import { createApiKeyService } from './modules/apiKeys/apiKeys';
import type { Services } from './modules/auth/services';
import { requireStepUp, resolveStepUpActions } from './modules/auth/stepUp';
import { createBotCheckService, resolveBotCheckConfig } from './modules/botCheck/botCheck';
import { createChallengeService } from './modules/challenges/challenges';
import { systemClock } from './modules/clock';
import { createEmailPolicy } from './modules/email/emailPolicy';
import { createMailer, type Mailer } from './modules/email/mailer';
import { assertValidHmacKeys } from './modules/hmac/keys';
import { createMysqlNonceStore } from './modules/hmac/nonceStore';
import { createRedisNonceStore } from './modules/hmac/redisNonceStore';
import { createHmacService } from './modules/hmac/verifier';
import { defaultLifetimes } from './modules/lifetimes';
import { createMetrics } from './modules/metrics';
import { createMfaService } from './modules/mfa/mfa';
import { parseOAuthConfig } from './modules/oauth/config';
import { createOAuthService } from './modules/oauth/service';
import { outboxBacklog } from './modules/outbox/backlog';
import { createOutboxWorker } from './modules/outbox/outbox';
import { createPasskeyService } from './modules/passkeys/passkeys';
import { createRateLimits } from './modules/rateLimit/rateLimiter';
import { defaultRetentionPolicy, type SweptCounts, sweepRetention } from './modules/retention/retention';
import { createSessionService } from './modules/sessions/sessions';
import { resolveTimeouts } from './modules/timeouts';
import { createAccessTokenService } from './modules/tokens/accessToken';
import { createRevocationSet } from './modules/tokens/revocations';
import { createSigningKeyStore } from './modules/tokens/signingKeys';
import { prepareDummyPassword } from './modules/users/password';
import { createPasswordPolicy } from './modules/users/passwordPolicy';
import { createUserCache } from './modules/users/userCache';
import { createWebhookSender, parseWebhooksConfig } from './modules/webhooks/webhooks';
import { appRouter } from './routers/root';
import { type Context, createInnerContext } from './trpc/context';
import { createCallerFactory } from './trpc/init';

const callerFactory = createCallerFactory(appRouter);

export interface IamServer {
  /** The express application: mount it, or listen on it. */
  app: express.Express;
  router: typeof appRouter;
  services: Services;
  /** Calls procedures in-process, without HTTP (for a BFF in the same process). */
  createCaller(context?: {
    bearerToken?: string | null;
    client?: Partial<Context['client']>;
    /** A trusted in-process service (a BFF in this process) may call `bff.*` without signing. */
    service?: Context['service'];
  }): ReturnType<typeof callerFactory>;
  /** Verifies an access token as an authenticated procedure would (signature, claims, revocation). */
  verifyAccessToken: Services['accessTokens']['verify'];
  /**
   * Verifies a user's API key as `bff.verifyApiKey` does, holding every scope given:
   * `{ valid: true, keyId, userId, scopes }` or `{ valid: false, reason }`; throws only
   * `RATE_LIMITED` (past `apiKeyVerificationsPerKey`, per key).
   */
  verifyApiKey: Services['apiKeys']['verify'];
  /** Express middleware guarding the host's own routes: `app.get('/admin', iam.requireAuth({ roles: ['admin'] }), …)`. */
  requireAuth: ReturnType<typeof createRequireAuth>;
  /** The same check for the host's own tRPC procedures; throws `TRPCError`. */
  trpcGuard: ReturnType<typeof createTrpcGuard>;
  /**
   * Spends a step-up token for one of your own actions (declared in `stepUpActions`), or
   * throws `STEP_UP_REQUIRED`: `await iam.requireStepUp({ sessionId: claims.sid, action, stepUpToken })`.
   */
  requireStepUp(input: { sessionId: string; action: string; stepUpToken: string | null | undefined }): Promise<void>;
  /** Runs the housekeeping the service otherwise runs every 5 minutes (retention included); returns the rows retention deleted. */
  runMaintenance(): Promise<{ swept: SweptCounts | null }>;
  close(): Promise<void>;
}

/**
 * Builds the whole service from its configuration: pools, keys, revocation feed, mailer,
 * the express app and the tRPC router. The standalone server (`main.ts`) is built by it too.
 */
export async function createIamServer(config: IamConfig & AppOptions & { migrate?: boolean }): Promise<IamServer> {
  // Every option is checked before anything starts: one line per problem, naming the option.
  assertValidIamOptions(config);
  // The defaults of the environment, as the standalone service has them for the same NODE_ENV.
  const fromProcess = config.environment === undefined ? environmentOfProcess() : undefined;
  const environment = config.environment ?? fromProcess?.environment ?? 'development';
  const defaults = environmentDefaults(environment, { dnsServers: config.dnsServers });
  const mailTransport = config.mail?.transport ?? (config.mail?.resendApiKey ? 'resend' : 'outbox');
  if (mailTransport === 'resend' && !config.mail?.resendApiKey) {
    throw new Error("Invalid createIamServer options:\n  mail.transport: 'resend' needs mail.resendApiKey");
  }
  if (defaults.mailProviderRequired && mailTransport === 'outbox' && config.mail?.transport !== 'outbox') {
    throw new Error(
      "Invalid createIamServer options:\n  mail.resendApiKey: required in production (or set mail.transport: 'outbox' to write mail to files on purpose)",
    );
  }
  assertValidHmacKeys(config.hmacKeys ?? []);
  const oauthConfig = parseOAuthConfig(config.oauth ?? { providers: [] });
  const webhooks = parseWebhooksConfig(config.webhooks ?? []);
  const logger: Logger = config.logger ?? createLogger();
  if (fromProcess && !fromProcess.set) {
    logger.warn('NODE_ENV is not set: the development defaults apply (docs/operations.md, library defaults); pass environment to choose');
  }
  const clock = config.clock ?? systemClock;
  const lifetimes = { ...defaultLifetimes, ...config.lifetimes };
  const publicUrl = config.publicUrl.replace(/\/+$/, '');
  const timeouts = resolveTimeouts(config.timeouts);
  const settings = {
    publicUrl,
    productName: config.productName ?? 'IAM',
    lifetimes,
    secureCookies: config.secureCookies ?? publicUrl.startsWith('https://'),
    stepUpActions: resolveStepUpActions(config.stepUpActions),
    requestDeadlineInMs: timeouts.requestDeadlineInMs,
  };

  if (config.migrate !== false) await applyMigrations(config.databaseUrl);
  await prepareDummyPassword();
  const pools = createDatabasePools({
    url: config.databaseUrl,
    queryTimeoutInMs: timeouts.databaseQueryInMs,
    pingTimeoutInMs: timeouts.readinessInMs,
  });
  const keys = createSigningKeyStore({ db: pools.db, secret: config.secret, clock, logger });
  const signingKeyRotationInSeconds = config.signingKeyRotationInSeconds ?? 30 * 24 * 3600;
  const redis = config.redisUrl ? createRedisClient(config.redisUrl, logger) : undefined;
  const revocations = createRevocationSet({
    db: pools.auxDb,
    clock,
    logger,
    windowInSeconds: lifetimes.accessTokenTtlInSeconds,
    redis,
    pollIntervalInMs: config.revocationPollIntervalInMs,
  });
  const userCache = createUserCache({
    db: pools.db,
    auxDb: pools.auxDb,
    logger,
    redis,
    pollIntervalInMs: config.userCachePollIntervalInMs,
  });
  try {
    await keys.init();
    keys.start({
      rotateEveryInSeconds: signingKeyRotationInSeconds,
      accessTokenTtlInSeconds: lifetimes.accessTokenTtlInSeconds,
    });
    await revocations.start();
    await userCache.start();
  } catch (error) {
    keys.stop();
    revocations.stop();
    userCache.stop();
    await pools.close();
    redis?.disconnect();
    throw error;
  }
  const accessTokens = createAccessTokenService({
    keys,
    revocations,
    clock,
    issuer: config.issuer ?? publicUrl,
    audience: config.audience ?? publicUrl,
    ttlInSeconds: lifetimes.accessTokenTtlInSeconds,
  });
  const anomaly = resolveAnomalyConfig(config.anomaly);
  const metrics = createMetrics({
    clock,
    signingKeys: keys,
    signingKeyRotationInSeconds,
    outboxBacklog: () => outboxBacklog(pools.auxDb),
    logger,
  });
  const limits = createRateLimits({
    redis,
    pool: pools.auxPool.pool,
    databaseName: databaseNameOf(config.databaseUrl),
    overrides: rateLimitsFor(environment, config.rateLimits),
    logger,
  });
  const passkeyService = createPasskeyService({
    db: pools.db,
    clock,
    rpId: new URL(publicUrl).hostname,
    rpName: settings.productName,
    origins: config.webauthnOrigins?.length ? config.webauthnOrigins : [new URL(publicUrl).origin],
  });
  const botCheck = createBotCheckService({ db: pools.db, clock, secret: config.secret, config: resolveBotCheckConfig(config.botCheck) });
  const hmac = createHmacService({
    keys: config.hmacKeys ?? [],
    nonces: redis ? createRedisNonceStore({ redis, now: () => clock.now() }) : createMysqlNonceStore({ db: pools.auxDb }),
    clock,
    logger,
  });
  const oauth = createOAuthService({
    db: pools.db,
    clock,
    logger,
    publicUrl,
    config: oauthConfig,
    secret: config.secret,
    allowLoopbackHttp: environment !== 'production',
    dnsServers: config.dnsServers,
  });
  const retention = { ...defaultRetentionPolicy, ...config.retention };
  /** Housekeeping: expired limiter rows, nonces, OAuth flows, and retention (delivered mail included). Each part fails alone. */
  async function runMaintenance(): Promise<{ swept: SweptCounts | null }> {
    const warn = (what: string) => (error: unknown) => {
      logger.warn({ err: error }, `${what} sweep failed`);
      return null;
    };
    const [, , , , , swept] = await Promise.all([
      limits.sweep().catch(warn('rate-limit')),
      hmac.sweepNonces().catch(warn('HMAC nonce')),
      oauth.sweep().catch(warn('OAuth flow')),
      botCheck.sweep().catch(warn('bot-check')),
      passkeyService.sweep().catch(warn('passkey ceremony')),
      sweepRetention(pools.auxDb, clock.now(), retention).catch(warn('retention')),
    ]);
    for (const [table, rows] of Object.entries(swept ?? {})) if (rows > 0) metrics.retentionSwept.inc({ table }, rows);
    return { swept };
  }
  const sweeper = setInterval(() => void runMaintenance(), 5 * 60_000).unref();
  const baseMailer = createMailer({
    resendApiKey: mailTransport === 'resend' ? config.mail?.resendApiKey : undefined,
    resendBaseUrl: config.mail?.resendBaseUrl,
    from: config.mail?.from ?? `${settings.productName} <no-reply@localhost>`,
    outboxDir: path.join(config.dataDir, 'outbox'),
    logger,
  });
  const mailer: Mailer = {
    send: (message, options) =>
      baseMailer.send(message, options).catch((error: unknown) => {
        metrics.mailFailures.inc();
        throw error;
      }),
  };
  const outbox = createOutboxWorker({
    db: pools.auxDb,
    clock,
    mailer,
    sendWebhook: createWebhookSender({ webhooks, clock }),
    logger,
    pollIntervalInMs: config.outboxPollIntervalInMs,
    onDelivered: (kind) => metrics.outboxDelivered.inc({ kind }),
    onFailedAttempt: (kind) => metrics.outboxFailedAttempts.inc({ kind }),
  });
  outbox.start();
  const mfa = createMfaService({ db: pools.db, clock, secret: config.secret, issuer: settings.productName });
  const services: Services = {
    db: pools.db,
    pools,
    clock,
    logger,
    mailer,
    outbox,
    webhooks,
    keys,
    accessTokens,
    revocations,
    users: userCache,
    botCheck,
    passkeys: passkeyService,
    apiKeys: createApiKeyService({ db: pools.db, clock, limits }),
    sessions: createSessionService({
      db: pools.db,
      clock,
      lifetimes,
      revocations,
      anomaly,
      maxSessionsPerUser: config.maxSessionsPerUser,
      securityEvents: { webhooks, outbox },
      onCheck: {
        signIn: (check, outcome) => metrics.signInChecks.inc({ check, outcome }),
        refresh: (check, outcome) => metrics.refreshChecks.inc({ check, outcome }),
      },
    }),
    challenges: createChallengeService({ db: pools.db, clock, secret: config.secret, lifetimes, secondFactor: mfa.check }),
    mfa,
    limits,
    metrics,
    emailPolicy: createEmailPolicy({
      dnsServers: config.dnsServers,
      timeoutInMs: config.emailPolicy?.dnsTimeoutInMs,
      allowDomains: config.emailPolicy?.allowDomains,
      blockDomains: config.emailPolicy?.blockDomains,
      mxCheck: config.emailPolicy?.mxCheck ?? defaults.mxCheck,
      logger,
    }),
    passwordPolicy: createPasswordPolicy({
      minLength: Math.max(passwordMinLength, config.passwordPolicy?.minLength ?? passwordMinLength),
      maxLength: Math.min(passwordMaxLength, config.passwordPolicy?.maxLength ?? passwordMaxLength),
      productName: settings.productName,
      hibpApiUrl: config.hibpApiUrl === undefined ? defaults.hibpApiUrl : config.hibpApiUrl === 'off' ? null : config.hibpApiUrl,
      timeoutInMs: config.passwordPolicy?.breachCheckTimeoutInMs,
      extraBlockedWords: config.passwordPolicy?.extraBlockedWords,
      onBreachCheckUnavailable: () => metrics.breachCheckUnavailable.inc(),
      logger,
    }),
    hmac,
    oauth,
    settings,
  };

  return {
    app: createApp(services, { ...config, metrics: config.metrics ?? defaults.metrics }),
    router: appRouter,
    services,
    createCaller: (context = {}) => callerFactory(createInnerContext({ services, ...context })),
    verifyAccessToken: (token) => accessTokens.verify(token),
    verifyApiKey: (key, scopes) => services.apiKeys.verify(key, scopes),
    requireAuth: createRequireAuth(accessTokens),
    trpcGuard: createTrpcGuard(accessTokens),
    requireStepUp: (input) => requireStepUp(services, input),
    runMaintenance,
    async close() {
      clearInterval(sweeper);
      await outbox.stop();
      keys.stop();
      revocations.stop();
      userCache.stop();
      await pools.close();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error('The database URL must name a database (mysql://…/name).');
  return name;
}
