import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { botCheckOf, loadConfigFile } from './configFile';

function file(content: unknown): string {
  const target = path.join(mkdtempSync(path.join(os.tmpdir(), 'iam-config-')), 'iam.json');
  writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content));
  return target;
}

describe('IAM_CONFIG_FILE', () => {
  it('reads the sections it knows', () => {
    const config = loadConfigFile(
      file({
        rateLimits: { signupPerIp: { points: 20 }, ipBlockLadderInSeconds: [60, 600] },
        anomaly: { modes: { network: 'enforce', fingerprint: 'log' }, fingerprintAttributes: ['country', 'city'] },
        passwordPolicy: { minLength: 12 },
      }),
    );
    expect((config.rateLimits as Record<string, unknown> | undefined)?.signupPerIp).toEqual({ points: 20 });
    expect(config.anomaly?.modes).toEqual({ network: 'enforce', fingerprint: 'log' });
    expect(config.passwordPolicy?.minLength).toBe(12);
  });

  it('refuses a typo instead of silently keeping a default', () => {
    expect(() => loadConfigFile(file({ rateLimits: { signupPerIP: { points: 20 } } }))).toThrow(/rateLimits/);
    expect(() => loadConfigFile(file({ anomaly: { modes: { network: 'block' } } }))).toThrow(/anomaly\.modes\.network/);
    expect(() => loadConfigFile(file('{ not json'))).toThrow(/cannot be read as JSON/);
  });

  it('no file, no settings', () => {
    expect(loadConfigFile(undefined)).toEqual({});
  });
});

describe('IAM_CONFIG_FILE retention section', () => {
  it('takes the two retention periods and refuses anything else', () => {
    expect(loadConfigFile(file({ retention: { auditRetentionInDays: 730, deviceRetentionInDays: 90 } })).retention).toEqual({
      auditRetentionInDays: 730,
      deviceRetentionInDays: 90,
    });
    expect(() => loadConfigFile(file({ retention: { auditRetentionDays: 730 } }))).toThrow(/retention/);
    expect(() => loadConfigFile(file({ retention: { deviceRetentionInDays: 0 } }))).toThrow(/retention/);
  });
});

describe('IAM_CONFIG_FILE oauth section', () => {
  it('is read and checked with the rest of the file', () => {
    const good = file({
      oauth: {
        providers: [{ type: 'google', clientId: 'id.apps.googleusercontent.com', clientSecret: 'secret' }],
        returnToAllowlist: ['https://app.example.com/'],
      },
    });
    expect(loadConfigFile(good).oauth?.providers).toEqual([
      { type: 'google', clientId: 'id.apps.googleusercontent.com', clientSecret: 'secret' },
    ]);
    const typo = file({ oauth: { providers: [{ type: 'google', clientID: 'x' }] } });
    expect(() => loadConfigFile(typo)).toThrow(/oauth\.providers\.0/);
  });
});

describe('IAM_CONFIG_FILE sign-in checks and bot check', () => {
  it('takes sign-in check modes and bot-check modes, and refuses unknown ones', () => {
    const config = loadConfigFile(
      file({ anomaly: { signInModes: { newDevice: 'log' } }, botCheck: { signup: 'always', maxNumber: 20_000 } }),
    );
    expect(config.anomaly?.signInModes).toEqual({ newDevice: 'log' });
    expect(botCheckOf(config.botCheck)).toEqual({ modes: { signup: 'always' }, maxNumber: 20_000 });
    expect(botCheckOf(undefined)).toBeUndefined();
    expect(() => loadConfigFile(file({ anomaly: { signInModes: { newBrowser: 'log' } } }))).toThrow(/signInModes/);
    expect(() => loadConfigFile(file({ botCheck: { signup: 'sometimes' } }))).toThrow(/botCheck\.signup/);
    expect(() => loadConfigFile(file({ botCheck: { logn: 'always' } }))).toThrow(/botCheck/);
    expect(() => loadConfigFile(file({ botCheck: { maxNumber: 10 } }))).toThrow(/botCheck\.maxNumber/);
  });
});

describe('IAM_CONFIG_FILE webhooks section', () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('takes endpoints with their secret and events, and names what is wrong', () => {
    const endpoint = { url: 'https://hooks.example.com/iam', secret, events: ['user.deleted'] };
    expect(loadConfigFile(file({ webhooks: [endpoint] })).webhooks).toEqual([endpoint]);
    expect(() => loadConfigFile(file({ webhooks: [{ ...endpoint, secret: 'whsec_' }] }))).toThrow(/webhooks\.0\.secret/);
    expect(() => loadConfigFile(file({ webhooks: [{ ...endpoint, url: 'http://hooks.example.com/iam' }] }))).toThrow(
      /webhooks\.0\.url: must be https/,
    );
    expect(() => loadConfigFile(file({ webhooks: [{ ...endpoint, events: ['user.*'] }] }))).toThrow(/webhooks\.0\.events\.0/);
  });
});
