import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCookieJar, createIamClient, iamCodeOf } from '@iam/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { uniqueEmail } from '../harness/server';
import { freePort, type StandaloneRun, startStandalone, stopStandalone } from '../harness/standalone';

// The standalone service's development profile (docs/operations.md, rate limits): the per-IP
// sign-up and login limits are relaxed in NODE_ENV=development only. Both services are started
// as an operator starts them, each on a database of its own (limits are counted in it).

interface Service extends StandaloneRun {
  url: string;
  database: TestDatabase;
}

async function startService(nodeEnv: 'development' | 'production', dataDir: string, configFile: string): Promise<Service> {
  const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
  const port = await freePort();
  const started = await startStandalone({
    NODE_ENV: nodeEnv,
    IAM_SECRET: randomBytes(32).toString('base64url'),
    DATABASE_URL: database.url,
    IAM_DATA_DIR: path.join(dataDir, nodeEnv),
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    MAIL_TRANSPORT: 'outbox',
    IAM_CONFIG_FILE: configFile,
    LOG_LEVEL: 'warn',
  });
  return { ...started, database };
}

async function stopService(service: Service | undefined): Promise<void> {
  if (!service) return;
  await stopStandalone(service);
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
