import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@iam/server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { freePort, runStandalone, type StandaloneRun, startStandalone, stopStandalone } from '../harness/standalone';

// The standalone service's production guardrails, as an operator meets them: the process is
// started with an environment and judged by its exit code and what it prints.

const secret = randomBytes(32).toString('base64url');

type Run = StandaloneRun;

function run(script: 'main.ts' | 'cli.ts', env: Record<string, string>, args: string[] = []): Run {
  return runStandalone(script, { LOG_LEVEL: 'info', ...env }, args);
}

async function finished(script: 'main.ts' | 'cli.ts', env: Record<string, string>, args: string[] = []) {
  const started = run(script, env, args);
  const code = await started.exited;
  return { code, output: started.output() };
}

const startService = (env: Record<string, string>) => startStandalone({ LOG_LEVEL: 'info', ...env });
const stop = stopStandalone;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The JSON log lines of an output whose `msg` contains `text`. */
function logLines(output: string, text: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => typeof line.msg === 'string' && line.msg.includes(text));
}

/** A TCP proxy to `target` that starts listening on `port` only when `open()` is called: a database coming up late. */
function lateDatabase(port: number, target: URL) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    open: () =>
      new Promise<void>((resolve) => {
        server = createServer((client) => {
          const upstream = tcpConnect(Number(target.port), target.hostname);
          sockets.add(client).add(upstream);
          client.pipe(upstream).pipe(client);
          client.on('error', () => upstream.destroy());
          upstream.on('error', () => client.destroy());
        });
        server.listen(port, '127.0.0.1', resolve);
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

describe('production refuses to start without what production needs', () => {
  it('without DATABASE_URL (no embedded database in production): service and CLI exit 1 with one line saying what to set', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-guardrails-'));
    try {
      const env = { NODE_ENV: 'production', IAM_SECRET: secret, RESEND_API_KEY: 're_test', IAM_DATA_DIR: dataDir };
      for (const [script, args] of [
        ['main.ts', []],
        ['cli.ts', ['create-admin', 'someone@example.com']],
      ] as const) {
        const { code, output } = await finished(script, env, [...args]);
        expect(code, output).toBe(1);
        expect(output.trim().split('\n')).toEqual([expect.stringContaining('DATABASE_URL')]);
        expect(output).toContain('required when NODE_ENV=production');
      }
      // Refused before any database work: nothing was provisioned.
      expect(existsSync(path.join(dataDir, 'mysql'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('without a mail provider, unless MAIL_TRANSPORT=outbox says so; MAIL_TRANSPORT=resend needs a key anywhere', async () => {
    const databaseUrl = `mysql://iam:pw@127.0.0.1:${await freePort()}/iam`;
    const production = { NODE_ENV: 'production', IAM_SECRET: secret, DATABASE_URL: databaseUrl, DATABASE_CONNECT_TIMEOUT_SECONDS: '0' };

    const refused = await finished('main.ts', production);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output.trim().split('\n')).toEqual([expect.stringContaining('RESEND_API_KEY is required when NODE_ENV=production')]);
    expect(refused.output).toContain('MAIL_TRANSPORT=outbox');

    const noKey = await finished('main.ts', { NODE_ENV: 'development', DATABASE_URL: databaseUrl, MAIL_TRANSPORT: 'resend' });
    expect(noKey.code).toBe(1);
    expect(noKey.output.trim()).toBe('MAIL_TRANSPORT=resend needs RESEND_API_KEY.');

    const unknown = await finished('main.ts', { NODE_ENV: 'development', DATABASE_URL: databaseUrl, MAIL_TRANSPORT: 'smtp' });
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('MAIL_TRANSPORT');
  });

  it('a DATABASE_URL without a database name is a configuration error at once, without the password', async () => {
    for (const url of ['mysql://iam:s3cret-pw@127.0.0.1:3306', 'mysql://iam:s3cret-pw@127.0.0.1:3306/']) {
      const { code, output } = await finished('main.ts', { NODE_ENV: 'development', DATABASE_URL: url });
      expect(code, output).toBe(1);
      expect(output).toContain('DATABASE_URL must name a database');
      expect(output).not.toContain('s3cret-pw');
      expect(output).not.toMatch(/drizzle|at .*\.ts/i);
    }
  });
});

describe('a database that is down at start', () => {
  it('is retried with backoff, one line per attempt with its system code and no password, then exit 1 with a clear message', async () => {
    const port = await freePort();
    const started = Date.now();
    const { code, output } = await finished('main.ts', {
      NODE_ENV: 'development',
      DATABASE_URL: `mysql://iam:s3cret-pw@127.0.0.1:${port}/iam`,
      DATABASE_CONNECT_TIMEOUT_SECONDS: '2',
    });
    expect(code, output).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const attempts = logLines(output, 'database not reachable yet; retrying');
    // 0.5 s, then 1 s, then what is left of the 2 s.
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.map((line) => line.retryInMs).slice(0, 2)).toEqual([500, 1000]);
    for (const line of attempts) {
      expect(line).toMatchObject({ level: 40, database: `127.0.0.1:${port}/iam`, errorCode: 'ECONNREFUSED' });
    }
    expect(output).toContain(`The database 127.0.0.1:${port}/iam was not reachable within 2 s`);
    expect(output).not.toContain('s3cret-pw');
  });

  it('that comes up while the CLI retries is used as soon as it answers', async () => {
    const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    const port = await freePort();
    const target = new URL(database.url);
    const late = lateDatabase(port, target);
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    try {
      const cli = run('cli.ts', { NODE_ENV: 'development', DATABASE_URL: proxied.href }, ['create-admin', 'nobody@example.com']);
      await sleep(1_200);
      await late.open();
      expect(await cli.exited, cli.output()).toBe(1);
      expect(logLines(cli.output(), 'database not reachable yet; retrying').length).toBeGreaterThanOrEqual(1);
      // It got as far as the database: migrated, and the account looked up.
      expect(cli.output()).toContain('No account has the address nobody@example.com');
    } finally {
      await late.close();
      await database.drop();
    }
  }, 60_000);
});

describe('a production start', () => {
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-guardrails-'));
  });
  afterAll(async () => {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const productionEnv = async () => {
    const port = await freePort();
    return {
      port,
      env: {
        NODE_ENV: 'production',
        IAM_SECRET: secret,
        DATABASE_URL: database.url,
        IAM_DATA_DIR: dataDir,
        PORT: String(port),
        PUBLIC_URL: `http://localhost:${port}`,
        MAIL_TRANSPORT: 'outbox',
      },
    };
  };

  it('warns about outbox mail and plain-http PUBLIC_URL, prints PUBLIC_URL when listening, keeps /metrics closed, logs a refused origin', async () => {
    const { port, env } = await productionEnv();
    const service = await startService(env);
    try {
      const output = service.output();
      expect(logLines(output, 'MAIL_TRANSPORT=outbox: mail is written to files')).toHaveLength(1);
      expect(logLines(output, 'is plain http')).toEqual([expect.objectContaining({ level: 40 })]);
      expect(output).toContain(`IAM service listening on http://127.0.0.1:${port} (tRPC at /trpc); PUBLIC_URL http://localhost:${port}`);

      expect((await fetch(`${service.url}/metrics`)).status).toBe(404);

      // A page opened on 127.0.0.1 while PUBLIC_URL names localhost: another site.
      const refused = await fetch(`${service.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` },
        body: JSON.stringify({ json: { email: 'someone@example.com', password: 'a password of some length' } }),
      });
      expect(refused.status).toBe(403);
      await sleep(100);
      expect(logLines(service.output(), 'cross-origin request refused')).toEqual([
        expect.objectContaining({
          level: 40,
          origin: `http://127.0.0.1:${port}`,
          status: 403,
          path: '/auth.login',
          allowedOrigins: [`http://localhost:${port}`],
        }),
      ]);
    } finally {
      await stop(service);
    }
  }, 60_000);

  it('serves /metrics with METRICS_TOKEN as a bearer token (process metrics named iam_process_*) or to anyone with METRICS_PUBLIC=true', async () => {
    const token = randomBytes(16).toString('hex');
    const withToken = await startService({ ...(await productionEnv()).env, METRICS_TOKEN: token });
    try {
      expect((await fetch(`${withToken.url}/metrics`)).status).toBe(401);
      const response = await fetch(`${withToken.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('iam_process_cpu_seconds_total');
      expect(text).toContain('iam_process_resident_memory_bytes');
      expect(text).toContain('iam_nodejs_eventloop_lag_seconds');
      expect(text).not.toContain('iam_process_process_');
    } finally {
      await stop(withToken);
    }

    const open = await startService({ ...(await productionEnv()).env, METRICS_PUBLIC: 'true' });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    } finally {
      await stop(open);
    }
  }, 60_000);

  it('outside production, /metrics stays open and an unset mail provider means the file outbox, without warnings', async () => {
    const { env } = await productionEnv();
    const service = await startService({ ...env, NODE_ENV: 'development', MAIL_TRANSPORT: '' });
    try {
      expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
      expect(logLines(service.output(), 'MAIL_TRANSPORT=outbox')).toEqual([]);
      expect(logLines(service.output(), 'plain http')).toEqual([]);
    } finally {
      await stop(service);
    }
  }, 60_000);
});

describe('the logger', () => {
  it("keeps an error's system code, errno and syscall, and still redacts secrets and request codes", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    logger.error(
      { err: error, input: { code: '123456', email: 'a@example.com' }, code: '654321', user: { password: 'pw', token: 'tk' } },
      'something failed',
    );
    const line = JSON.parse(lines.join('')) as Record<string, Record<string, unknown>>;
    expect(line.err).toMatchObject({
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      message: 'connect ECONNREFUSED 127.0.0.1:3306',
    });
    expect(line.input).toEqual({ code: '[redacted]', email: 'a@example.com' });
    expect(line.code).toBe('[redacted]');
    expect(line.user).toEqual({ password: '[redacted]', token: '[redacted]' });
  });
});
