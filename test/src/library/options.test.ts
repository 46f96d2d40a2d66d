import { randomBytes } from 'node:crypto';
import { createIamServer, createLogger, type IamConfig } from '@iam/server';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';

/** Valid options, except that nothing listens at the database: validation comes before any connection. */
const valid = {
  publicUrl: 'http://127.0.0.1:1',
  secret: randomBytes(32).toString('base64url'),
  databaseUrl: 'mysql://iam@127.0.0.1:1/iam',
  dataDir: '/tmp/iam-options-test',
  logger: createLogger({ level: 'silent' }),
  migrate: false,
};

type Options = Parameters<typeof createIamServer>[0];

/** The message createIamServer refuses the options with (never a start: the database is unreachable either way). */
async function refusal(overrides: Record<string, unknown>): Promise<string> {
  try {
    const iam = await createIamServer({ ...valid, ...overrides } as Options);
    await iam.close();
    return 'started';
  } catch (error) {
    return (error as Error).message;
  }
}

const bad: Array<{ options: Record<string, unknown>; names: RegExp }> = [
  { options: { publicUrl: 'not a url' }, names: /^ {2}publicUrl: .+/m },
  { options: { publicUrl: undefined }, names: /^ {2}publicUrl: .+/m },
  { options: { secret: 'short' }, names: /^ {2}secret: .*32 bytes/m },
  { options: { databaseUrl: 'postgres://x@h/db' }, names: /^ {2}databaseUrl: .*mysql:\/\//m },
  { options: { databaseUrl: 'mysql://x@127.0.0.1:1/' }, names: /^ {2}databaseUrl: .*name a database/m },
  { options: { hibpApiUrl: 'of' }, names: /^ {2}hibpApiUrl: .+/m },
  { options: { hibpApiUrl: 42 }, names: /^ {2}hibpApiUrl: .+/m },
  { options: { hibpApiURL: 'off' }, names: /^ {2}hibpApiURL: unknown option/m },
  { options: { mail: { resendApiKey: 're_x', resendBaseUrl: 'not a url' } }, names: /^ {2}mail\.resendBaseUrl: .+/m },
  { options: { mail: { apiKey: 're_x' } }, names: /^ {2}mail\.apiKey: unknown option/m },
  { options: { lifetimes: { accessTokenTtlInSeconds: -1 } }, names: /^ {2}lifetimes\.accessTokenTtlInSeconds: .+/m },
  { options: { timeouts: { requestDeadlineInMs: 0 } }, names: /^ {2}timeouts\.requestDeadlineInMs: .+/m },
  { options: { maxSessionsPerUser: 0 }, names: /^ {2}maxSessionsPerUser: .+/m },
  { options: { dnsServers: '127.0.0.1:53' }, names: /^ {2}dnsServers: .+/m },
  { options: { emailPolicy: { mxCheck: 'yes' } }, names: /^ {2}emailPolicy\.mxCheck: .+/m },
  { options: { passwordPolicy: { minLength: 'twelve' } }, names: /^ {2}passwordPolicy\.minLength: .+/m },
  { options: { rateLimits: { signupPerIP: { points: 1 } } }, names: /^ {2}rateLimits\.signupPerIP: unknown option/m },
  { options: { rateLimits: { signupPerIp: { points: 0 } } }, names: /^ {2}rateLimits\.signupPerIp\.points: .+/m },
  { options: { botCheck: { modes: { signup: 'sometimes' } } }, names: /^ {2}botCheck\.modes\.signup: .+/m },
  { options: { anomaly: { modes: { token: 'maybe' } } }, names: /^ {2}anomaly\.modes\.token: .+/m },
  { options: { hmacKeys: [{ id: 'web', secret: '' }] }, names: /^ {2}hmacKeys\.0\.secret: .+/m },
  { options: { hmacKeys: [{ id: 'web', secret: 's', procedures: ['auth.login'] }] }, names: /^ {2}hmacKeys\.0\.procedures\.0: .+/m },
  { options: { stepUpActions: ['Not An Action!'] }, names: /^ {2}stepUpActions\.0: .+/m },
  { options: { oauth: { providers: [{ type: 'myspace' }] } }, names: /^ {2}oauth\.providers\.0.*: .+/m },
  { options: { trustProxy: { hops: 1 } }, names: /^ {2}trustProxy: .+/m },
  { options: { metrics: 3 }, names: /^ {2}metrics: .+/m },
  { options: { logger: console.log }, names: /^ {2}logger: .+/m },
  { options: { clock: { now: 1 } }, names: /^ {2}clock: .+/m },
  { options: { environment: 'staging' }, names: /^ {2}environment: .+/m },
  { options: { retention: { auditRetentionInDays: 0 } }, names: /^ {2}retention\.auditRetentionInDays: .+/m },
];

describe('createIamServer options', () => {
  for (const { options, names } of bad) {
    it(`refuses ${JSON.stringify(options, (_key, value) => (value === undefined ? '<undefined>' : typeof value === 'function' ? '<function>' : value))}, naming the option`, async () => {
      const message = await refusal(options);
      expect(message).toMatch(/^Invalid createIamServer options:\n/);
      expect(message).toMatch(names);
      expect(message).not.toMatch(/\n\s+at /);
    });
  }

  it('names every problem at once, one line each, and never prints the secret', async () => {
    const secret = 'too short to be a secret';
    const message = await refusal({ secret, hibpApiUrl: 'nope', maxSessionsPerUser: -3, typo: true });
    const lines = message.split('\n');
    expect(lines[0]).toBe('Invalid createIamServer options:');
    expect(
      lines
        .slice(1)
        .map((line) => line.trim().split(':')[0])
        .sort(),
    ).toEqual(['hibpApiUrl', 'maxSessionsPerUser', 'secret', 'typo']);
    expect(message).not.toContain(secret);
  });

  it("accepts hibpApiUrl: 'off' as documented: it starts, signs up, and never asks Pwned Passwords", async () => {
    const off: IamConfig['hibpApiUrl'] = 'off';
    await using t = await createTestServer({ hibpApiUrl: off });
    await t.signUp();
    expect(t.pwned.requests).toEqual([]);
  });
});
