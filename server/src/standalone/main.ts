#!/usr/bin/env node
// The standalone service: the only module with side effects. `pnpm start` runs it.
import type { AddressInfo } from 'node:net';
import type { IamConfig } from '../config';
import type { HmacKeyConfig } from '../modules/hmac/keys';
import type { Env, ServiceSettings } from './env';
import { instrumentDatabaseDriver } from './tracing';

// First the database driver's instrumentation (tracing, docs/operations.md): it must be in place
// before mysql2 loads, so everything that may load it is imported after it, here.
const pendingTracing = instrumentDatabaseDriver();
const { createIamServer } = await import('../createIamServer');
const { createLogger } = await import('../logger');
const { withProcedureAllowlists } = await import('../modules/hmac/keys');
const { botCheckOf, loadConfigFile } = await import('./configFile');
const { loadEnv, parseTrustProxy, serviceSettingsOf } = await import('./env');
const { resolveDatabaseUrl, resolveSecret } = await import('./resolve');
const { waitForDatabase } = await import('./waitForDatabase');

let env: Env;
let configFile: ReturnType<typeof loadConfigFile>;
let hmacKeys: HmacKeyConfig[];
let settings: ServiceSettings;
try {
  env = loadEnv();
  settings = serviceSettingsOf(env);
  configFile = loadConfigFile(env.IAM_CONFIG_FILE);
  hmacKeys = withProcedureAllowlists(env.HMAC_KEYS, configFile.hmac?.keys);
} catch (error) {
  // A configuration mistake: say what is wrong, without a stack trace.
  console.error((error as Error).message);
  process.exit(1);
}
const tracing = await pendingTracing.start(settings.tracing);
const logger = createLogger({ level: env.LOG_LEVEL });
for (const warning of settings.warnings) logger.warn(warning);
const database = await resolveDatabaseUrl(env, logger);
const publicUrl = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;

let iam: Awaited<ReturnType<typeof createIamServer>>;
try {
  await waitForDatabase(database.url, { timeoutInSeconds: env.DATABASE_CONNECT_TIMEOUT_SECONDS, logger });
  iam = await createIamServer({
    // The library derives the defaults of NODE_ENV from it (docs/operations.md, library defaults).
    environment: env.NODE_ENV,
    publicUrl,
    issuer: env.IAM_ISSUER,
    audience: env.IAM_AUDIENCE,
    secret: await resolveSecret(env),
    databaseUrl: database.url,
    redisUrl: env.REDIS_URL,
    dataDir: env.IAM_DATA_DIR,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    webauthnOrigins: env.WEBAUTHN_ORIGINS?.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    corsOrigins: env.CORS_ORIGINS?.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    // Without a Resend key the mailer writes the file outbox: MAIL_TRANSPORT=outbox chooses it even with one.
    mail: {
      resendApiKey: settings.mailTransport === 'resend' ? env.RESEND_API_KEY : undefined,
      resendBaseUrl: env.RESEND_BASE_URL,
      from: env.MAIL_FROM,
      transport: settings.mailTransport,
    },
    lifetimes: {
      accessTokenTtlInSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshGraceInSeconds: env.REFRESH_GRACE_SECONDS,
      sessionIdleInSeconds: env.SESSION_IDLE_SECONDS,
      sessionMaxInSeconds: env.SESSION_MAX_SECONDS,
    },
    maxSessionsPerUser: env.MAX_SESSIONS_PER_USER,
    signingKeyRotationInSeconds: env.SIGNING_KEY_ROTATION_SECONDS,
    timeouts: {
      databaseQueryInMs: env.DB_QUERY_TIMEOUT_MS,
      requestDeadlineInMs: env.REQUEST_DEADLINE_MS,
      readinessInMs: env.READINESS_TIMEOUT_MS,
    },
    dnsServers: env.DNS_SERVERS?.split(',')
      .map((server) => server.trim())
      .filter(Boolean),
    hibpApiUrl: env.HIBP_API_URL,
    hmacKeys,
    // NODE_ENV=development relaxes the per-IP sign-up and login limits (docs/operations.md, rate limits).
    rateLimits: configFile.rateLimits,
    anomaly: configFile.anomaly as IamConfig['anomaly'],
    botCheck: botCheckOf(configFile.botCheck),
    stepUpActions: configFile.stepUpActions,
    oauth: configFile.oauth,
    passwordPolicy: configFile.passwordPolicy,
    retention: configFile.retention,
    webhooks: configFile.webhooks,
    // The MX check asks real DNS: on with DNS_SERVERS or in production, off in a development
    // sandbox whose resolver may answer nothing (the library's default; the disposable list applies either way).
    emailPolicy: configFile.emailPolicy,
    metrics: settings.metrics,
    httpLogging: true,
    logger,
  });
} catch (error) {
  logger.fatal({ err: error }, `the service could not start: ${(error as Error).message}`);
  await database.stop();
  process.exit(1);
}

const server = iam.app.listen(env.PORT, env.HOST, () => {
  const { port } = server.address() as AddressInfo;
  logger.info({ url: `http://${env.HOST}:${port}`, publicUrl }, 'IAM service listening');
  // Browsers must open PUBLIC_URL itself: another host name for the same server (127.0.0.1 for
  // localhost) is another site, whose cookies and CORS requests the service refuses.
  console.log(`IAM service listening on http://${env.HOST}:${port} (tRPC at /trpc); PUBLIC_URL ${publicUrl}`);
});
server.keepAliveTimeout = 5_000;

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining');
  // Stop accepting, let in-flight requests finish, then close pools and the database.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = setTimeout(() => server.closeAllConnections(), 10_000).unref();
  await closed;
  clearTimeout(deadline);
  await iam.close();
  await database.stop();
  await tracing.stop();
  logger.info('stopped');
  process.exit(0);
}

// `pnpm start` execs this process, so these reach it from whoever signals pnpm. SIGHUP (the
// terminal closed) would otherwise kill it at once and leave the embedded database running.
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
