import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCookieJar, createIamClient, iamCodeOf } from '@iam/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { uniqueEmail } from '../harness/server';

// The standalone service's development profile (docs/operations.md, rate limits): the per-IP
// sign-up and login limits are relaxed in NODE_ENV=development only. Both services are started
// as an operator starts them, each on a database of its own (limits are counted in it).

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

interface Service {
  child: ChildProcess;
  url: string;
  output(): string;
  database: TestDatabase;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startService(nodeEnv: 'development' | 'production', dataDir: string, configFile: string): Promise<Service> {
  const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/standalone/main.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: nodeEnv,
      IAM_SECRET: randomBytes(32).toString('base64url'),
      DATABASE_URL: database.url,
      IAM_DATA_DIR: path.join(dataDir, nodeEnv),
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      MAIL_TRANSPORT: 'outbox',
      HIBP_API_URL: 'off',
      IAM_CONFIG_FILE: configFile,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited early:\n${output}`);
    const url = /IAM service listening on (http:\/\/\S+:\d+)/.exec(output)?.[1];
    if (url) return { child, url, output: () => output, database };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the service did not start:\n${output}`);
}

async function stopService(service: Service | undefined): Promise<void> {
  if (!service) return;
  if (service.child.exitCode === null) {
    const exited = new Promise((resolve) => service.child.once('exit', resolve));
    service.child.kill('SIGTERM');
    await exited;
  }
  await service.database.drop();
}

/**
 * Six sign-ups from one IP (loopback), each a new address, through the client a frontend uses
 * (it solves a bot check by itself): what each is answered.
 */
async function sixSignUps(service: Service): Promise<string[]> {
  const api = createIamClient({ url: `${service.url}/trpc`, cookieJar: createCookieJar() });
  const answers: string[] = [];
  for (let i = 0; i < 6; i++) {
    answers.push(
      await api.auth.signup.mutate({ email: uniqueEmail('profile'), password: 'a long enough passphrase' }).then(
        (result) => result.status,
        (error: unknown) => iamCodeOf(error) ?? String(error),
      ),
    );
  }
  return answers;
}

describe('the development profile of the standalone service', () => {
  let dataDir: string;
  let development: Service | undefined;
  let production: Service | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-profile-'));
    const configFile = path.join(dataDir, 'config.json');
    // No real DNS in a test (the MX check off) and a small proof of work for the bot check.
    await writeFile(configFile, JSON.stringify({ emailPolicy: { mxCheck: false }, botCheck: { maxNumber: 1000 } }));
    [development, production] = await Promise.all([
      startService('development', dataDir, configFile),
      startService('production', dataDir, configFile),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stopService(development), stopService(production)]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('NODE_ENV=development: six sign-ups from one IP in an hour all get the usual answer', async () => {
    if (!development) throw new Error('not started');
    const answers = await sixSignUps(development);
    expect(answers).toEqual(Array(6).fill('verification_required'));
  });

  it('NODE_ENV=production: the sixth is refused with RATE_LIMITED, as before', async () => {
    if (!production) throw new Error('not started');
    const answers = await sixSignUps(production);
    expect(answers).toEqual([...Array(5).fill('verification_required'), 'RATE_LIMITED']);
  });
});
