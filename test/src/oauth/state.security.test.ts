import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, uniqueEmail } from '../harness/server';
import { accountId, corp, createOAuthEnv, deliver, type OAuthEnv, visitProvider } from './env';

/** A person at the provider with a verified address, so a successful callback signs in. */
function verifiedAccount(env: OAuthEnv): string {
  const id = accountId();
  env.provider.accounts.set(id, { email: uniqueEmail('state'), email_verified: true });
  return id;
}

async function sessionCount(env: OAuthEnv): Promise<number> {
  const [rows] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions');
  return Number(rows[0]?.n);
}

describe('oauth.callback: state, PKCE and issuer (RFC 9700, RFC 7636, RFC 9207)', () => {
  it('a missing or mismatched state is refused, and a wrong guess does not spend the real flow', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, verifiedAccount(env));

    const missing = await browser.api.oauth.callback.mutate({ provider: corp, code: response.code, iss: response.iss }).catch(iamCodeOf);
    expect(missing).toBe('OAUTH_STATE_INVALID');
    expect(await deliver(browser.api, { ...response, state: '' }).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    // One character changed (a state that already ends in `A` gets a `B`, so the guess always differs).
    const guess = `${response.state.slice(0, -1)}${response.state.endsWith('A') ? 'B' : 'A'}`;
    expect(await deliver(browser.api, { ...response, state: guess }).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    expect(await sessionCount(env)).toBe(0);
    // The browser's own response still completes.
    expect(authenticated(await deliver(browser.api, response)).user.emailVerified).toBe(true);
  });

  it('a state works once: the same response delivered again is refused', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, verifiedAccount(env));
    authenticated(await deliver(browser.api, response));
    expect(await deliver(browser.api, response).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    expect(await sessionCount(env)).toBe(1);
  });

  it('a state expires after 10 minutes', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, verifiedAccount(env));
    env.t.clock.advance(10 * 60 + 1);
    expect(await deliver(browser.api, response).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
  });

  it('a response delivered by another browser is refused (login CSRF, stolen redirect), and the owner can still finish', async () => {
    await using env = await createOAuthEnv();
    const owner = env.t.client();
    const response = await visitProvider(env, owner.api, verifiedAccount(env));
    const attacker = env.t.client();
    expect(await deliver(attacker.api, response).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    expect(attacker.jar.get('iam_rt')).toBeUndefined();
    authenticated(await deliver(owner.api, response));
  });

  it('a state is bound to its provider', async () => {
    await using env = await createOAuthEnv({ aliases: ['other'] });
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, verifiedAccount(env));
    const elsewhere = await browser.api.oauth.callback
      .mutate({ provider: 'other', code: response.code, state: response.state, iss: response.iss })
      .catch(iamCodeOf);
    expect(elsewhere).toBe('OAUTH_STATE_INVALID');
    authenticated(await deliver(browser.api, response));
  });

  it('a code from another authorization is refused: codes swapped between two flows of one browser', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const first = await visitProvider(env, browser.api, verifiedAccount(env));
    const second = await visitProvider(env, browser.api, verifiedAccount(env));
    // The first flow's state with the second flow's code: the provider bound that code to another PKCE challenge.
    expect(await deliver(browser.api, { ...first, code: second.code }).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    expect(await sessionCount(env)).toBe(0);
    expect(browser.jar.get('iam_rt')).toBeUndefined();
  });

  it('PKCE: a code injected into another flow is refused, since that flow holds another verifier', async () => {
    await using env = await createOAuthEnv();
    const victim = env.t.client();
    const stolen = await visitProvider(env, victim.api, verifiedAccount(env));
    // The attacker starts a flow of their own and injects the victim's code into it (RFC 9700 §4.5).
    const attacker = env.t.client();
    const own = await visitProvider(env, attacker.api, verifiedAccount(env));
    expect(await deliver(attacker.api, { ...own, code: stolen.code }).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    expect(attacker.jar.get('iam_rt')).toBeUndefined();
    expect(await sessionCount(env)).toBe(0);
  });

  it('RFC 9207: a response with another issuer, or without the issuer the provider announces, is refused', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const mixedUp = await visitProvider(env, browser.api, verifiedAccount(env));
    expect(await deliver(browser.api, { ...mixedUp, iss: 'https://attacker.example' }).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    const silent = await visitProvider(env, browser.api, verifiedAccount(env));
    expect(await deliver(browser.api, { ...silent, iss: undefined }).catch(iamCodeOf)).toBe('OAUTH_STATE_INVALID');
    expect(await sessionCount(env)).toBe(0);
  });

  it('a returnTo outside the allowlist is refused, never replaced; exact entries and prefix entries ending in "/" match', async () => {
    await using env = await createOAuthEnv();
    const { api } = env.t.client();
    const refused = [
      'https://evil.example/after-login',
      'https://app.example.com/after-login/more',
      'https://app.example.com/after-login?next=1',
      'https://app.example.com.evil.example/app/',
      'https://app.example.com@evil.example/app/',
      'https://app.example.com/app/../admin',
      'https://app.example.com/app/%2e%2e/admin',
      'http://app.example.com/app/',
      'https://app.example.com/application',
      '//evil.example/app/',
      '/app/',
      'javascript:alert(1)//https://app.example.com/app/',
      'https://app.example.com/app/#fragment',
      'https://app.example.com\\@evil.example/app/',
    ];
    for (const returnTo of refused) {
      const error = await api.oauth.authorize.mutate({ provider: corp, returnTo }).catch((caught: unknown) => caught);
      expect(iamCodeOf(error), returnTo).toBe('OAUTH_RETURN_TO_INVALID');
      expect((error as { data?: { httpStatus?: number } }).data?.httpStatus).toBe(400);
    }
    const [rows] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM oauth_states');
    expect(rows[0]?.n).toBe(0);
    for (const returnTo of ['https://app.example.com/after-login', 'https://app.example.com/app/', 'https://app.example.com/app/x/y?z=1']) {
      expect((await api.oauth.authorize.mutate({ provider: corp, returnTo })).url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    }
  });

  it('an unknown provider is bad input', async () => {
    await using env = await createOAuthEnv();
    const { api } = env.t.client();
    expect(await api.oauth.authorize.mutate({ provider: 'nobody' }).catch(iamCodeOf)).toBe('INVALID_INPUT');
  });
});

describe('oauth rate limit', () => {
  it('oauth calls from one IP count against oauthPerIp', async () => {
    await using env = await createOAuthEnv({ server: { rateLimits: { oauthPerIp: { points: 2 } } } });
    const { api } = env.t.client();
    await api.oauth.authorize.mutate({ provider: corp });
    await api.oauth.authorize.mutate({ provider: corp });
    const refused = await api.oauth.authorize.mutate({ provider: corp }).catch((error: unknown) => error);
    expect(iamCodeOf(refused)).toBe('RATE_LIMITED');
    expect((refused as { data?: { retryAfterSeconds?: number } }).data?.retryAfterSeconds).toBeGreaterThan(0);
    expect(await api.oauth.callback.mutate({ provider: corp, code: 'c', state: 's' }).catch(iamCodeOf)).toBe('RATE_LIMITED');
  });
});
