import { describe, expect, it } from 'vitest';
import { type CheckInput, checks } from './checks';
import { type AnomalyConfig, type CheckOutcome, defaultAnomalyConfig, resolveAnomalyConfig } from './config';
import { assess } from './pipeline';
import { assessSignIn } from './signInChecks';

const now = new Date('2026-06-01T12:00:00Z');
const london = { country: 'GB', region: 'ENG', city: 'London', latitude: 51.5, longitude: -0.12, timezone: 'Europe/London' };
const paris = { country: 'FR', region: 'IDF', city: 'Paris', latitude: 48.85, longitude: 2.35, timezone: 'Europe/Paris' };
const sydney = { country: 'AU', region: 'NSW', city: 'Sydney', latitude: -33.87, longitude: 151.21, timezone: 'Australia/Sydney' };

function input(
  overrides: { request?: Partial<CheckInput['request']>; device?: Partial<CheckInput['device']> } & Partial<
    Omit<CheckInput, 'request' | 'device'>
  > = {},
): CheckInput {
  const { request, device, ...rest } = overrides;
  return {
    now,
    session: { createdAt: new Date(now.getTime() - 3600_000), lastUsedAt: new Date(now.getTime() - 600_000) },
    device: {
      canaryHash: 'c1',
      trusted: false,
      country: 'GB',
      city: 'London',
      browser: 'Chrome',
      os: 'Linux',
      deviceType: 'desktop',
      network: '81.2.69.0/24',
      asn: 20712,
      userAgent: 'Mozilla/5.0 Chrome',
      lastLatitude: london.latitude,
      lastLongitude: london.longitude,
      lastLocatedAt: new Date(now.getTime() - 600_000),
      ...device,
    },
    request: {
      canaryHash: 'c1',
      ip: '81.2.69.142',
      userAgent: 'Mozilla/5.0 Chrome',
      browser: 'Chrome',
      os: 'Linux',
      deviceType: 'desktop',
      network: '81.2.69.0/24',
      geo: london,
      owner: { asn: 20712, organisation: 'Andrews & Arnold Ltd', hosting: false },
      bot: false,
      ...request,
    },
    activeSessions: 2,
    refreshesInWindow: 1,
    ...rest,
  };
}

const config: AnomalyConfig = defaultAnomalyConfig;

describe('the anomaly checks', () => {
  it('all pass for the device as it proved itself', () => {
    for (const check of Object.values(checks)) expect(check(input(), config)).toEqual({ outcome: 'pass' });
  });

  it('canary: missing or different', () => {
    expect(checks.canary(input({ request: { canaryHash: null } }), config)).toMatchObject({
      outcome: 'challenge',
      reason: 'canary_missing',
    });
    expect(checks.canary(input({ request: { canaryHash: 'c2' } }), config)).toMatchObject({
      outcome: 'challenge',
      reason: 'canary_mismatch',
    });
  });

  it('idle: unused for longer than the idle limit', () => {
    const lastUsedAt = new Date(now.getTime() - (config.idleChallengeInSeconds + 60) * 1000);
    expect(checks.idle(input({ session: { createdAt: lastUsedAt, lastUsedAt } }), config)).toMatchObject({ reason: 'idle' });
  });

  it('session count and velocity: above their limits', () => {
    expect(checks.sessionCount(input({ activeSessions: config.maxActiveSessionsPerUser + 1 }), config)).toMatchObject({
      reason: 'too_many_sessions',
    });
    expect(checks.sessionCount(input({ activeSessions: config.maxActiveSessionsPerUser }), config)).toEqual({ outcome: 'pass' });
    expect(checks.velocity(input({ refreshesInWindow: config.maxRefreshesPerSession + 1 }), config)).toMatchObject({
      reason: 'refresh_velocity',
    });
  });

  it('network: another address block', () => {
    expect(checks.network(input({ request: { network: '2.16.0.0/24' } }), config)).toMatchObject({ reason: 'network_changed' });
  });

  it('bot: an automated agent where the device proved itself with a browser, not a script that signed in as itself', () => {
    expect(checks.bot(input({ request: { bot: true, userAgent: 'HeadlessChrome' } }), config)).toMatchObject({ reason: 'bot_user_agent' });
    expect(checks.bot(input({ request: { bot: true, userAgent: 'node' }, device: { userAgent: 'node' } }), config)).toEqual({
      outcome: 'pass',
    });
  });

  it('hosting network: a hosting or VPN network the device has not proven itself from', () => {
    const hetzner = { asn: 24940, organisation: 'Hetzner Online GmbH', hosting: true };
    expect(checks.hostingNetwork(input({ request: { owner: hetzner } }), config)).toMatchObject({ reason: 'hosting_network' });
    expect(checks.hostingNetwork(input({ request: { owner: hetzner }, device: { asn: 24940 } }), config)).toEqual({ outcome: 'pass' });
  });

  it('fingerprint: country, browser, OS or device type changed; unknowns are not changes', () => {
    expect(checks.fingerprint(input({ request: { geo: paris } }), config)).toMatchObject({
      reason: 'fingerprint_changed',
      evidence: { changed: ['country'], country: { from: 'GB', to: 'FR' } },
    });
    expect(checks.fingerprint(input({ request: { browser: 'Firefox' } }), config)).toMatchObject({ evidence: { changed: ['browser'] } });
    expect(checks.fingerprint(input({ request: { geo: null, browser: null } }), config)).toEqual({ outcome: 'pass' });
  });

  it('impossible travel: London to Sydney in ten minutes; a short hop is fine', () => {
    const onlyTravel = resolveAnomalyConfig({ fingerprintAttributes: [] });
    expect(checks.fingerprint(input({ request: { geo: sydney } }), onlyTravel)).toMatchObject({ reason: 'impossible_travel' });
    const hoursLater = new Date(now.getTime() - 30 * 3600_000);
    expect(checks.fingerprint(input({ request: { geo: sydney }, device: { lastLocatedAt: hoursLater } }), onlyTravel)).toEqual({
      outcome: 'pass',
    });
  });
});

describe('the pipeline', () => {
  it('the first enforced non-pass decides, with its reason and evidence', () => {
    const verdict = assess(input({ request: { canaryHash: null, geo: paris } }), config);
    expect(verdict).toMatchObject({ decision: 'challenge', reasons: ['canary_missing'], evidence: { check: 'canary' } });
  });

  it('log mode records without deciding; off skips', () => {
    const logging = resolveAnomalyConfig({ modes: { canary: 'log', fingerprint: 'off' } });
    const verdict = assess(input({ request: { canaryHash: null, geo: paris } }), logging);
    expect(verdict).toMatchObject({ decision: 'pass', logged: ['canary_missing'] });
  });
});

describe('what the checks tell their observer (the metrics count it)', () => {
  const observed = () => {
    const seen: Array<[string, CheckOutcome]> = [];
    return { seen, observe: (check: string, outcome: CheckOutcome) => seen.push([check, outcome]) };
  };

  it('a refresh: every check that ran, up to and with the deciding one; off and later checks are not told', () => {
    const { seen, observe } = observed();
    const logging = resolveAnomalyConfig({ modes: { idle: 'off', network: 'log' } });
    assess(input({ request: { network: '82.1.1.0/24', bot: true, userAgent: 'curl/8' } }), logging, observe);
    expect(seen).toEqual([
      ['token', 'pass'],
      ['canary', 'pass'],
      ['sessionCount', 'pass'],
      ['velocity', 'pass'],
      ['network', 'logged'],
      ['bot', 'challenge'],
    ]);
  });

  it('a sign-in: every check on', () => {
    const { seen, observe } = observed();
    const history = { device: null, countries: new Set(['GB']), asns: new Set([20712]), lastLocation: null, devices: 1 };
    const request = { ...input().request, geo: paris, owner: { asn: 3215, organisation: 'Orange', hosting: false } };
    assessSignIn({ now, request, history }, config, observe);
    expect(seen).toEqual([
      ['newDevice', 'challenge'],
      ['newCountry', 'challenge'],
      ['newNetwork', 'logged'],
      ['hostingNetwork', 'pass'],
      ['impossibleTravel', 'pass'],
      ['bot', 'pass'],
    ]);
  });

  it('a sign-in on a trusted device runs no check', () => {
    const { seen, observe } = observed();
    const history = { device: { trusted: true }, countries: new Set<string>(), asns: new Set<number>(), lastLocation: null, devices: 1 };
    assessSignIn({ now, request: input().request, history }, config, observe);
    expect(seen).toEqual([]);
  });
});
