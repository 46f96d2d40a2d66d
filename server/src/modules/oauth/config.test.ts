import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isLoopbackHost, matchesReturnToAllowlist, parseOAuthConfig } from './config';
import { defineProvider } from './providers';

describe('returnTo allowlist (RFC 9700 §4.11)', () => {
  const allowlist = ['https://app.example.com/after-login', 'https://app.example.com/app/', 'http://localhost:3000'];

  it('matches an entry exactly, or as a prefix when the entry ends with "/"', () => {
    expect(matchesReturnToAllowlist(allowlist, 'https://app.example.com/after-login')).toBe(true);
    expect(matchesReturnToAllowlist(allowlist, 'https://APP.example.com:443/after-login')).toBe(true);
    expect(matchesReturnToAllowlist(allowlist, 'https://app.example.com/app/')).toBe(true);
    expect(matchesReturnToAllowlist(allowlist, 'https://app.example.com/app/deep/page?x=1')).toBe(true);
    expect(matchesReturnToAllowlist(allowlist, 'http://localhost:3000')).toBe(true);
    expect(matchesReturnToAllowlist(allowlist, 'http://localhost:3000/')).toBe(true);
  });

  it('refuses everything else', () => {
    for (const candidate of [
      'https://app.example.com/after-login/x',
      'https://app.example.com/after-login?x',
      'https://app.example.com/app',
      'https://app.example.com/apple',
      'https://app.example.com/app/../admin',
      'https://app.example.com/app/%2e%2e/admin',
      'https://app.example.com/app/%2E%2E/admin',
      'https://app.example.com.evil.example/app/',
      'https://evil.example@app.example.com/app/',
      'https://app.example.com/app/#x',
      'https://app.example.com\\app/',
      ' https://app.example.com/app/',
      'http://localhost:3000/anything',
      'http://localhost:30000',
      'javascript://app.example.com/app/',
      '/app/',
      '',
    ]) {
      expect(matchesReturnToAllowlist(allowlist, candidate), candidate).toBe(false);
    }
    expect(matchesReturnToAllowlist([], 'https://app.example.com/')).toBe(false);
  });
});

describe('loopback hosts', () => {
  it('are 127.0.0.0/8, ::1 and localhost, nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['128.0.0.1', '10.0.0.1', '[::2]', 'localhost.example.com', 'example.com', '0.0.0.0', '[::ffff:127.0.0.1]'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('the oauth configuration', () => {
  it('accepts presets in a few lines, any OIDC issuer, and OAuth 2 endpoints with a profile map', () => {
    const config = parseOAuthConfig({
      providers: [
        { type: 'google', clientId: 'g', clientSecret: 's' },
        { type: 'github', clientId: 'gh', clientSecret: 's' },
        { type: 'microsoft', tenant: 'organizations', clientId: 'm', clientSecret: 's' },
        { type: 'apple', clientId: 'com.example.web', clientSecret: 'signed.jwt.value' },
        { type: 'discord', clientId: 'd', clientSecret: 's' },
        { id: 'corp', type: 'oidc', issuer: 'https://sso.example.com', clientId: 'c', clientSecret: 's' },
        {
          id: 'legacy',
          type: 'oauth2',
          authorizationUrl: 'https://legacy.example.com/authorize',
          tokenUrl: 'https://legacy.example.com/token',
          userinfoUrl: 'https://legacy.example.com/me',
          clientId: 'l',
          clientSecret: 's',
          scopes: ['profile'],
          profile: { id: 'data.id', email: 'data.mail', emailVerified: 'data.mail_ok', name: 'data.display' },
        },
        { id: 'local', type: 'oidc', issuer: 'http://127.0.0.1:9000', clientId: 'c', allowInsecureHttp: true },
      ],
      returnToAllowlist: ['https://app.example.com/'],
      defaultReturnTo: 'https://app.example.com/home',
    });
    const defined = config.providers.map((provider) => defineProvider(provider, 'https://id.example.com/'));
    expect(defined.map(({ id, name, protocol }) => ({ id, name, protocol }))).toEqual([
      { id: 'google', name: 'Google', protocol: 'oidc' },
      { id: 'github', name: 'GitHub', protocol: 'oauth2' },
      { id: 'microsoft', name: 'Microsoft', protocol: 'oidc' },
      { id: 'apple', name: 'Apple', protocol: 'oidc' },
      { id: 'discord', name: 'Discord', protocol: 'oauth2' },
      { id: 'corp', name: 'corp', protocol: 'oidc' },
      { id: 'legacy', name: 'legacy', protocol: 'oauth2' },
      { id: 'local', name: 'local', protocol: 'oidc' },
    ]);
    expect(defined[0]?.redirectUri).toBe('https://id.example.com/oauth/callback/google');
    expect(defined[2]?.issuer).toBe('https://login.microsoftonline.com/organizations/v2.0');
    expect(defined[3]?.authorizationParams).toEqual({ response_mode: 'form_post' });
    expect(defined[7]?.tokenEndpointAuthMethod).toBe('none');
  });

  it('refuses plain HTTP beyond loopback, allowInsecureHttp for a remote host, duplicates, typos and reserved parameters', () => {
    const base = { clientId: 'c', clientSecret: 's' };
    const refuses = (providers: unknown[], pattern: RegExp, extra: Record<string, unknown> = {}) =>
      expect(() => parseOAuthConfig({ providers, ...extra })).toThrow(pattern);
    refuses([{ id: 'a', type: 'oidc', issuer: 'http://sso.example.com', ...base }], /providers\.0\.issuer: must be https/);
    refuses([{ id: 'a', type: 'oidc', issuer: 'http://127.0.0.1:9000', ...base }], /must be https/);
    refuses(
      [{ id: 'a', type: 'oidc', issuer: 'http://sso.example.com', allowInsecureHttp: true, ...base }],
      /allowInsecureHttp is honoured only for loopback hosts/,
    );
    refuses(
      [{ id: 'a', type: 'oidc', issuer: 'https://sso.example.com', allowInsecureHttp: true, ...base }],
      /allowInsecureHttp is honoured only for loopback hosts/,
    );
    refuses(
      [
        { type: 'google', ...base },
        { type: 'google', ...base },
      ],
      /duplicate provider id "google"/,
    );
    refuses([{ type: 'google', clientSecrets: 's', clientId: 'c' }], /clientSecrets/);
    refuses([{ type: 'facebook', ...base }], /providers\.0\.type/);
    refuses([{ type: 'google', authorizationParams: { state: 'x' }, ...base }], /set by the flow itself/);
    refuses([{ type: 'apple', clientId: 'c' }], /Apple needs teamId, keyId and privateKey, or clientSecret/);
    refuses([{ id: 'Bad Id', type: 'oidc', issuer: 'https://sso.example.com', ...base }], /providers\.0\.id/);
    refuses([], /defaultReturnTo: must match the returnTo allowlist/, { defaultReturnTo: 'https://evil.example/' });
    refuses([], /returnToAllowlist\.0/, { returnToAllowlist: ['https://app.example.com/#x'] });
  });

  it('library mode: a zod schema may map an OAuth 2 profile', () => {
    const config = parseOAuthConfig({
      providers: [
        {
          id: 'custom',
          type: 'oauth2',
          authorizationUrl: 'https://c.example.com/a',
          tokenUrl: 'https://c.example.com/t',
          userinfoUrl: 'https://c.example.com/u',
          clientId: 'c',
          scopes: [],
          profile: z.object({ user: z.object({ uid: z.number(), mail: z.string() }) }).transform(({ user }) => ({
            id: user.uid,
            email: user.mail,
            emailVerified: true,
          })),
        },
      ],
    });
    const provider = config.providers[0];
    if (!provider) throw new Error('no provider');
    const defined = defineProvider(provider, 'https://id.example.com');
    expect(defined.mapProfile({ user: { uid: 7, mail: 'a@example.com' } })).toEqual({ id: 7, email: 'a@example.com', emailVerified: true });
    expect(defined.mapProfile({ nothing: true })).toEqual({});
  });
});
