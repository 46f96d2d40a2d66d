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
import { createTestDatabase } from './database';

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
  /** A typed client with its own cookie jar (a device of its own). */
  client(options?: Partial<IamClientOptions>): { api: IamClient; jar: CookieJar };
  /** Signs up and verifies a user through the real flow; returns a signed-in client. */
  signUp(input?: {
    email?: string;
    password?: string;
    name?: string;
  }): Promise<{ api: IamClient; jar: CookieJar; email: string; password: string; accessToken: string; userId: string }>;
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
  } = {},
): Promise<TestServer> {
  const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
  const mail = await startResendPeer();
  const dns = await startDnsPeer({ '*': anyDomainHasMx });
  const pwned = await startPwnedPasswordsPeer(['breached password 123']);
  const clock = createTestClock();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-test-data-'));
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const secret = randomBytes(32).toString('base64url');
  const iam = await createIamServer({
    publicUrl: `${url}${options.basePath ?? ''}`,
    secret,
    databaseUrl: database.url,
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
    dnsServers: [dns.server],
    hibpApiUrl: pwned.url,
    clock,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  http.on('request', options.host ? options.host(iam) : iam.app);
  const sql = mysql.createPool({ uri: database.url, timezone: 'Z', connectionLimit: 4 });
  const trpcUrl = `${url}${options.basePath ?? ''}/trpc`;

  const client = (clientOptions: Partial<IamClientOptions> = {}) => {
    const jar = clientOptions.cookieJar ?? createCookieJar();
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
    config: { publicUrl: `${url}${options.basePath ?? ''}`, secret, databaseUrl: database.url, dataDir },
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
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Narrows a sign-in or refresh result to tokens; anything else (a challenge) fails the test. */
export function authenticated<T extends { status: string }>(result: T): Extract<T, { status: 'authenticated' }> {
  if (result.status !== 'authenticated') throw new Error(`expected tokens, got ${result.status}: ${JSON.stringify(result)}`);
  return result as Extract<T, { status: 'authenticated' }>;
}
