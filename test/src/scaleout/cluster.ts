import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { createCookieJar, createIamClient, type IamClient } from '@iam/client';
import mysql from 'mysql2/promise';
import { mainKey } from '../bff/signed';
import { type GaleraCluster, startGaleraCluster } from '../harness/galera';
import { type NginxBalancer, startNginx } from '../harness/nginx';
import { codeFrom, uniqueEmail } from '../harness/server';
import { freePort, repoRoot, type StandaloneRun, startStandalone } from '../harness/standalone';
import { type ResendPeer, startResendPeer } from '../peers/resend';

/**
 * The scale-out set-up as an operator runs it: a three-node Galera cluster, one compiled
 * service instance per node (each with DATABASE_URL at its own node, the same IAM_SECRET,
 * PUBLIC_URL and HMAC_KEYS, no Redis), and nginx round-robin in front of them.
 */
export interface ScaleOut extends AsyncDisposable {
  galera: GaleraCluster;
  nginx: NginxBalancer;
  mail: ResendPeer;
  instances: Instance[];
  /** SQL on node `index` (the service's database). */
  sql(index: number): mysql.Pool;
  /** A client of the balancer (or of one instance), as a device with its own cookies, from `ip`. */
  device(ip: string, via?: string): Device;
  /** Signs up through `device` and verifies the address with the mailed code. */
  signUp(device: Device): Promise<Account>;
  /** A password sign-in on `device`, with the mailed code when one is asked for; its access token. */
  signIn(device: Device, account: Pick<Account, 'email' | 'password'>): Promise<string>;
  stop(): Promise<void>;
}

export interface Instance {
  index: number;
  /** `http://127.0.0.1:PORT`, the instance itself. */
  url: string;
  running(): boolean;
  /** SIGKILL, as a crashed machine. */
  kill(): Promise<void>;
  /** Starts it again with the same environment and waits until it listens. */
  start(): Promise<void>;
  output(): string;
  /** The environment it runs with (the CLI takes the same). */
  env: Record<string, string>;
}

export interface Device {
  api: IamClient;
  jar: ReturnType<typeof createCookieJar>;
  ip: string;
}

export interface Account {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
}

export const hmacKey = mainKey;

export async function startScaleOut(): Promise<ScaleOut> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
  };
  try {
    const galera = await startGaleraCluster({ size: 3, log: () => {} });
    cleanups.push(() => galera.stop());
    const admin = await mysql.createConnection({ uri: galera.nodes[0]?.adminUrl });
    await admin.query('CREATE DATABASE iam');
    await admin.end();
    const mail = await startResendPeer();
    cleanups.push(() => mail.close());
    const work = await mkdtemp(path.join(tmpdir(), 'iam-scaleout-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const configFile = path.join(work, 'config.json');
    await writeFile(configFile, JSON.stringify({ emailPolicy: { mxCheck: false }, botCheck: { maxNumber: 1000 } }));

    const ports = await Promise.all(galera.nodes.map(() => freePort()));
    const nginx = await startNginx({ upstreams: ports.map((port) => `127.0.0.1:${port}`) });
    cleanups.push(() => nginx.stop());
    const secret = randomBytes(32).toString('base64url');
    const instances = galera.nodes.map((node, index): Instance & { stop(): Promise<void> } => {
      const port = ports[index] ?? 0;
      const env = {
        NODE_ENV: 'production',
        IAM_SECRET: secret,
        DATABASE_URL: galera.urlOf(index, 'iam'),
        IAM_DATA_DIR: path.join(work, `instance-${node.index}`),
        PORT: String(port),
        PUBLIC_URL: nginx.url,
        TRUST_PROXY: 'loopback',
        RESEND_API_KEY: 're_test_key',
        RESEND_BASE_URL: mail.url,
        MAIL_FROM: 'IAM <no-reply@example.com>',
        IAM_CONFIG_FILE: configFile,
        HMAC_KEYS: `${hmacKey.id}:${hmacKey.secret}`,
        LOG_LEVEL: 'warn',
      };
      let run: StandaloneRun | undefined;
      let earlier = '';
      return {
        index,
        url: `http://127.0.0.1:${port}`,
        running: () => run !== undefined && run.child.exitCode === null && run.child.signalCode === null,
        async kill() {
          if (!run || run.child.exitCode !== null) return;
          run.child.kill('SIGKILL');
          await run.exited;
        },
        async start() {
          if (run) earlier += run.output();
          run = await startStandalone(env, 120_000, { compiled: true });
        },
        async stop() {
          if (!run || run.child.exitCode !== null || run.child.signalCode !== null) return;
          run.child.kill('SIGTERM');
          await run.exited;
        },
        output: () => earlier + (run?.output() ?? ''),
        env,
      };
    });
    cleanups.push(() => Promise.all(instances.map((instance) => instance.stop())));
    // All three at once, each on its own node: their migrators meet on the lease row.
    await Promise.all(instances.map((instance) => instance.start()));

    const pools = galera.nodes.map((_, index) => mysql.createPool({ uri: galera.urlOf(index, 'iam'), timezone: 'Z', connectionLimit: 3 }));
    cleanups.push(() => Promise.all(pools.map((pool) => pool.end())));

    const device = (ip: string, via = nginx.url): Device => {
      const jar = createCookieJar();
      return { api: createIamClient({ url: `${via}/trpc`, cookieJar: jar, headers: { 'x-forwarded-for': ip } }), jar, ip };
    };
    const signUp = async (on: Device): Promise<Account> => {
      const email = uniqueEmail('scale');
      const password = `correct horse ${randomBytes(6).toString('hex')}`;
      const { challengeId } = await on.api.auth.signup.mutate({ email, password });
      const message = await mail.waitFor((candidate) => candidate.to.includes(email));
      const verified = await on.api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(message) });
      return { email, password, userId: verified.user.id, accessToken: verified.accessToken };
    };
    const signIn = async (on: Device, account: Pick<Account, 'email' | 'password'>): Promise<string> => {
      const mailsBefore = mail.messages.length;
      let result = await on.api.auth.login.mutate({ email: account.email, password: account.password });
      if (result.status === 'mfa_required' && result.methods.includes('email_otp')) {
        const message = await mail.waitFor(
          (candidate) =>
            mail.messages.indexOf(candidate) >= mailsBefore &&
            candidate.to.includes(account.email) &&
            candidate.tags.template === 'login_code',
        );
        result = await on.api.mfa.verify.mutate({ challengeId: result.challengeId, code: codeFrom(message) });
      }
      if (result.status !== 'authenticated') throw new Error(`sign-in ended ${result.status}`);
      return result.accessToken;
    };

    const stop = cleanup;
    return {
      galera,
      nginx,
      mail,
      instances,
      sql: (index) => {
        const pool = pools[index];
        if (!pool) throw new Error(`no node ${index}`);
        return pool;
      },
      device,
      signUp,
      signIn,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** How many migrations the repository holds. */
export async function journalLength(): Promise<number> {
  const journal = JSON.parse(await readFile(path.join(repoRoot, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** `GET <url>/readyz`'s status (0 when nothing answers). */
export async function readiness(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Waits until `check` holds, asking every 100 ms for at most `withinMs`; the last answer. */
export async function until<T>(ask: () => Promise<T>, check: (answer: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await ask();
    if (check(answer) || Date.now() > deadline) return answer;
    await pause(100);
  }
}
