import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type CookieJar, createCookieJar, createIamClient, type IamClient, type IamClientOptions } from '@iam/client';
import { createIamServer, createLogger, type IamConfig, type IamServer, type Lifetimes } from '@iam/server';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';
import { anyDomainHasMx, type DnsPeer, startDnsPeer } from '../peers/dns';
import { type PwnedPeer, startPwnedPasswordsPeer } from '../peers/pwnedPasswords';
import { type ReceivedEmail, type ResendPeer, startResendPeer } from '../peers/resend';
import { createTestClock, type TestClock } from './clock';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestServer extends AsyncDisposable {
  /** Base URL of the real HTTP server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  trpcUrl: string;
  iam: IamServer;
  /** What the service was built with, to start a second instance on the same database. */
  config: { publicUrl: string; secret: string; databaseUrl: string; dataDir: string };
  /** A direct connection for asserting database state. */
  sql: mysql.Pool;
  mail: ResendPeer;
  /** The DNS server the MX checks ask: every domain has an MX unless a test says otherwise. */
  dns: DnsPeer;
  /** The Pwned Passwords range API the breach check asks. */
  pwned: PwnedPeer;
  clock: TestClock;
  /**
   * A typed client with its own cookie jar (a device of its own). `deviceOf`: the same browser
   * as that jar (its device canary, `iam_cid`, without its session cookies), as after a sign-out.
   */
  client(options?: Partial<IamClientOptions> & { deviceOf?: CookieJar }): { api: IamClient; jar: CookieJar };
  /** Signs up and verifies a user through the real flow; returns a signed-in client. */
  signUp(input?: {
    email?: string;
    password?: string;
    name?: string;
  }): Promise<{ api: IamClient; jar: CookieJar; email: string; password: string; accessToken: string; userId: string }>;
  /**
   * Signs in from a device the account has never used (a jar of its own): the sign-in checks
   * ask it for proof, and the code mailed to the owner answers, as a person would.
   */
  signInOnNewDevice(
    user: { email: string; password: string },
    options?: Partial<IamClientOptions>,
  ): Promise<{ api: IamClient; jar: CookieJar; accessToken: string; sessionId: string }>;
  /** The same on a given client: its password sign-in, and the mailed code when it is asked for one. */
  signInOn<D extends { api: IamClient }>(
    device: D,
    user: { email: string; password: string },
  ): Promise<D & { accessToken: string; sessionId: string }>;
  /** The newest message to an address (waits for it). */
  lastMailTo(email: string): Promise<ReceivedEmail>;
  close(): Promise<void>;
}

export function codeFrom(message: ReceivedEmail): string {
  const match = /\b(\d{6,10})\b/.exec(message.text ?? '');
  if (!match?.[1]) throw new Error(`no code in mail "${message.subject}"`);
  return match[1];
}

export function linkTokenFrom(message: ReceivedEmail): string {
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(message.text ?? message.html ?? '');
  if (!match?.[1]) throw new Error(`no link in mail "${message.subject}"`);
  return match[1];
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter++;
  return `${prefix}.${counter}.${randomBytes(4).toString('hex')}@example.com`;
}

/**
 * A disposable service: its own database, a real HTTP server on loopback, the Resend API
 * peer as its mailbox, and a clock the test can move. `await using t = await createTestServer()`.
 */
export async function createTestServer(
  options: {
    lifetimes?: Partial<Lifetimes>;
    trustProxy?: string | boolean;
    rateLimits?: IamConfig['rateLimits'];
    anomaly?: IamConfig['anomaly'];
    redisUrl?: string;
    revocationPollIntervalInMs?: number;
    /** Mount the service under this path of a host app (library mode), e.g. `/auth`. */
    basePath?: string;
    /** Builds the host app around the service (library mode); default: the service alone. */
    host?: (iam: IamServer) => RequestListener;
    /** The host's own step-up actions (`stepUpActions` in the config file). */
    stepUpActions?: string[];
    /** Keys services sign `bff.*` requests with (as `HMAC_KEYS` gives them); default none. */
    hmacKeys?: IamConfig['hmacKeys'];
    /** Social sign-in: providers and the `returnTo` allowlist (`oauth` of the config file). */
    oauth?: IamConfig['oauth'];
    maxSessionsPerUser?: number;
    /**
     * The host name the service is reached by (default 127.0.0.1). Browser passkey tests use
     * `localhost`: WebAuthn wants a domain as the RP ID, never an IP address.
     */
    hostName?: 'localhost' | '127.0.0.1';
    /** Bot-check modes; the work defaults to a small one here, so solving costs tests milliseconds. */
    botCheck?: IamConfig['botCheck'];
    /** Query timeout, procedure deadline and readiness timeout (docs/operations.md, timeouts and deadlines). */
    timeouts?: IamConfig['timeouts'];
    /** The URL the service reaches its test database by, from the direct one (e.g. through a proxy in front of it). */
    databaseUrlFor?: (url: string) => string;
    /** Security-event webhook endpoints (`webhooks` of the config file). */
    webhooks?: IamConfig['webhooks'];
    /** A test database prepared beforehand (e.g. migrated by another tool); dropped at close like a new one. */
    database?: TestDatabase;
    /** The breach check's API: default the Pwned Passwords peer; `null` or `'off'` turns the online check off. */
    hibpApiUrl?: IamConfig['hibpApiUrl'];
    /** Serve `/api/v1`, `/openapi.json` and `/docs` (default: on). */
    restApi?: boolean;
  } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase(inject('iamDatabaseAdminUrl')));
  const mail = await startResendPeer();
  const dns = await startDnsPeer({ '*': anyDomainHasMx });
  const pwned = await startPwnedPasswordsPeer(['breached password 123']);
  const clock = createTestClock();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-test-data-'));
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://${options.hostName ?? '127.0.0.1'}:${(http.address() as AddressInfo).port}`;

  const secret = randomBytes(32).toString('base64url');
  const databaseUrl = options.databaseUrlFor ? options.databaseUrlFor(database.url) : database.url;
  const iam = await createIamServer({
    publicUrl: `${url}${options.basePath ?? ''}`,
    secret,
    databaseUrl,
    dataDir,
    mail: { resendApiKey: 're_test_key', resendBaseUrl: mail.url, from: 'IAM <no-reply@example.com>' },
    lifetimes: options.lifetimes,
    trustProxy: options.trustProxy,
    rateLimits: options.rateLimits,
    anomaly: options.anomaly,
    redisUrl: options.redisUrl,
    revocationPollIntervalInMs: options.revocationPollIntervalInMs,
    // Queued mails (alerts, notices) go out within a few tens of milliseconds in tests.
    outboxPollIntervalInMs: 50,
    stepUpActions: options.stepUpActions,
    hmacKeys: options.hmacKeys,
    oauth: options.oauth,
    maxSessionsPerUser: options.maxSessionsPerUser,
    botCheck: { maxNumber: 1_000, ...options.botCheck },
    timeouts: options.timeouts,
    webhooks: options.webhooks,
    dnsServers: [dns.server],
    hibpApiUrl: options.hibpApiUrl === undefined ? pwned.url : options.hibpApiUrl,
    ...(options.restApi === undefined ? {} : { restApi: options.restApi }),
    clock,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  http.on('request', options.host ? options.host(iam) : iam.app);
  const sql = mysql.createPool({ uri: database.url, timezone: 'Z', connectionLimit: 4 });
  const trpcUrl = `${url}${options.basePath ?? ''}/trpc`;

  const client = ({ deviceOf, ...clientOptions }: Partial<IamClientOptions> & { deviceOf?: CookieJar } = {}) => {
    const jar = clientOptions.cookieJar ?? createCookieJar();
    const canary = deviceOf?.get('iam_cid');
    if (canary) jar.store({ headers: new Headers([['set-cookie', `iam_cid=${canary}; Path=/`]]) } as Response);
    return { api: createIamClient({ url: trpcUrl, cookieJar: jar, ...clientOptions }), jar };
  };

  const lastMailTo = async (email: string) => {
    await mail.waitFor((message) => message.to.includes(email));
    const matching = mail.messages.filter((message) => message.to.includes(email));
    const last = matching.at(-1);
    if (!last) throw new Error(`no mail to ${email}`);
    return last;
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await iam.close();
    await sql.end();
    await mail.close();
    await dns.close();
    await pwned.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };

  return {
    url,
    trpcUrl,
    iam,
    config: { publicUrl: `${url}${options.basePath ?? ''}`, secret, databaseUrl, dataDir },
    sql,
    mail,
    dns,
    pwned,
    clock,
    client,
    lastMailTo,
    async signUp(input = {}) {
      const email = input.email ?? uniqueEmail();
      const password = input.password ?? `correct horse ${randomBytes(6).toString('hex')}`;
      const { api, jar } = client();
      const signup = await api.auth.signup.mutate({ email, password, ...(input.name ? { name: input.name } : {}) });
      const code = codeFrom(await lastMailTo(email));
      const result = await api.auth.verifyEmail.mutate({ challengeId: signup.challengeId, code });
      return { api, jar, email, password, accessToken: result.accessToken, userId: result.user.id };
    },
    signInOnNewDevice(user, clientOptions = {}) {
      return signInOn(client(clientOptions), user);
    },
    signInOn,
    close,
    [Symbol.asyncDispose]: close,
  };

  async function signInOn<D extends { api: IamClient }>(device: D, user: { email: string; password: string }) {
    const mailsBefore = mail.messages.length;
    let result = await device.api.auth.login.mutate({ email: user.email, password: user.password });
    if (result.status === 'mfa_required' && result.methods.includes('email_otp')) {
      const message = await mail.waitFor(
        (candidate) =>
          mail.messages.indexOf(candidate) >= mailsBefore && candidate.to.includes(user.email) && candidate.tags.template === 'login_code',
      );
      result = await device.api.mfa.verify.mutate({ challengeId: result.challengeId, code: codeFrom(message) });
    }
    const signedIn = authenticated(result);
    const claims = JSON.parse(Buffer.from(signedIn.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sid: string };
    return { ...device, accessToken: signedIn.accessToken, sessionId: claims.sid };
  }
}

/** Narrows a sign-in or refresh result to tokens; anything else (a challenge) fails the test. */
export function authenticated<T extends { status: string }>(result: T): Extract<T, { status: 'authenticated' }> {
  if (result.status !== 'authenticated') throw new Error(`expected tokens, got ${result.status}: ${JSON.stringify(result)}`);
  return result as Extract<T, { status: 'authenticated' }>;
}
