import type { AddressInfo } from 'node:net';
import { createIamServer, createLogger, type IamConfig, type IamServer } from '@iam/server';
import { describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../harness/server';

type Environment = NonNullable<IamConfig['environment']>;

/** A second instance on the test server's database, with nothing but the environment (and a mailbox) chosen. */
function start(t: TestServer, environment: Environment | undefined, extra: Partial<IamConfig> = {}): Promise<IamServer> {
  return createIamServer({
    ...t.config,
    migrate: false,
    clock: t.clock,
    logger: createLogger({ level: 'silent' }),
    mail: { resendApiKey: 're_test_key', resendBaseUrl: t.mail.url },
    ...(environment ? { environment } : {}),
    ...extra,
  });
}

async function metricsStatus(iam: IamServer): Promise<number> {
  const server = iam.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    return (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).status;
  } finally {
    server.close();
  }
}

/** The limits, breach check, MX check and metrics an instance runs with, as far as they show without asking the network. */
async function observed(iam: IamServer) {
  return {
    signupPerIp: iam.services.limits.get('signupPerIp').spec.points,
    loginPerIp: iam.services.limits.get('loginPerIp').spec.points,
    loginFailuresPerIp: iam.services.limits.get('loginFailuresPerIp').spec.points,
    loginFailuresPerEmail: iam.services.limits.get('loginFailuresPerEmail').spec.points,
    metrics: await metricsStatus(iam),
  };
}

/**
 * The library's defaults are the standalone service's for the same NODE_ENV (docs/operations.md,
 * library defaults): nothing in development or test asks the network unasked.
 */
describe('library defaults by environment', () => {
  it('development: the development rate-limit profile, open /metrics, no MX or online breach check unless asked', async () => {
    await using t = await createTestServer();
    const iam = await start(t, 'development');
    try {
      expect(await observed(iam)).toEqual({
        signupPerIp: 50,
        loginPerIp: 300,
        loginFailuresPerIp: 1000,
        loginFailuresPerEmail: 10,
        metrics: 200,
      });
      await expect(iam.services.emailPolicy.check('someone@example.com')).resolves.toEqual({ mx: 'skipped' });
      await expect(iam.services.passwordPolicy.check('a long and unusual passphrase 7')).resolves.toEqual({ breachCheck: 'skipped' });
    } finally {
      await iam.close();
    }
    // Resolvers given turn the MX check on, as DNS_SERVERS does; the config's limits win over the profile.
    const asked = await start(t, 'development', { dnsServers: [t.dns.server], rateLimits: { signupPerIp: { points: 7 } } });
    try {
      await expect(asked.services.emailPolicy.check('someone@example.com')).resolves.toEqual({ mx: 'found' });
      expect(asked.services.limits.get('signupPerIp').spec.points).toBe(7);
    } finally {
      await asked.close();
    }
  });

  it('test: the production limits, open /metrics, no MX or online breach check unless asked; NODE_ENV picks it when no environment is given', async () => {
    await using t = await createTestServer();
    for (const environment of ['test', undefined] as const) {
      const iam = await start(t, environment);
      try {
        expect(await observed(iam)).toEqual({
          signupPerIp: 5,
          loginPerIp: 30,
          loginFailuresPerIp: 100,
          loginFailuresPerEmail: 10,
          metrics: 200,
        });
        await expect(iam.services.emailPolicy.check('someone@example.com')).resolves.toEqual({ mx: 'skipped' });
        await expect(iam.services.passwordPolicy.check('a long and unusual passphrase 7')).resolves.toEqual({ breachCheck: 'skipped' });
      } finally {
        await iam.close();
      }
    }
  });

  it('production: the default limits, /metrics closed, and no start without a mail provider unless the outbox is chosen', async () => {
    await using t = await createTestServer();
    // The MX and breach checks are on in production; resolvers and the API given here keep the test on loopback.
    const iam = await start(t, 'production', { dnsServers: [t.dns.server], hibpApiUrl: t.pwned.url });
    try {
      expect(await observed(iam)).toEqual({
        signupPerIp: 5,
        loginPerIp: 30,
        loginFailuresPerIp: 100,
        loginFailuresPerEmail: 10,
        metrics: 404,
      });
      await expect(iam.services.emailPolicy.check('someone@example.com')).resolves.toEqual({ mx: 'found' });
    } finally {
      await iam.close();
    }
    const refused = await start(t, 'production', { mail: {} }).then(
      (started) => started.close().then(() => 'started'),
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/^ {2}mail\.resendApiKey: required in production/m);
    const outbox = await start(t, 'production', { mail: { transport: 'outbox' }, dnsServers: [t.dns.server], hibpApiUrl: 'off' });
    await outbox.close();
  });
});
