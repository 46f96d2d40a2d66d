import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { errorOf, expectNoInternals, post } from '../harness/http';
import { authenticated, uniqueEmail } from '../harness/server';
import type { ProviderMode } from '../peers/oidcProvider';
import { accountId, corp, createOAuthEnv, deliver, visitProvider } from './env';

describe('a provider that is down or answers garbage: a clean 502 OAUTH_PROVIDER_ERROR', () => {
  it('at the start, when discovery cannot reach the provider', async () => {
    await using env = await createOAuthEnv();
    env.provider.setMode('reset');
    const { jar } = env.t.client();
    const response = await post(env.t.trpcUrl, 'oauth.authorize', JSON.stringify(superjson.serialize({ provider: corp })), {
      cookie: jar.header(),
    });
    expect(response.status).toBe(502);
    expect(errorOf(response)).toMatchObject({ iamCode: 'OAUTH_PROVIDER_ERROR', code: 'BAD_GATEWAY', httpStatus: 502 });
    expectNoInternals(response);
    // Once it is back, the next attempt discovers it again.
    env.provider.setMode('ok');
    expect((await env.t.client().api.oauth.authorize.mutate({ provider: corp })).url).toContain('/auth?');
  });

  for (const mode of ['reset', 'error', 'garbage'] satisfies ProviderMode[]) {
    it(`at the code exchange (${mode})`, async () => {
      await using env = await createOAuthEnv();
      const browser = env.t.client();
      const response = await visitProvider(env, browser.api, accountId(), { account: { email: uniqueEmail(mode), email_verified: true } });
      env.provider.setMode(mode);
      const answer = await post(
        env.t.trpcUrl,
        'oauth.callback',
        JSON.stringify(superjson.serialize({ provider: corp, code: response.code, state: response.state, iss: response.iss })),
        { cookie: browser.jar.header() },
      );
      expect(answer.status).toBe(502);
      expect(errorOf(answer).iamCode).toBe('OAUTH_PROVIDER_ERROR');
      expectNoInternals(answer);
      expect(answer.headers.getSetCookie().some((cookie) => cookie.startsWith('iam_rt='))).toBe(false);
    });
  }

  it('an ID token whose signature does not verify against the provider keys is refused', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, accountId(), {
      account: { email: uniqueEmail('forged'), email_verified: true },
    });
    env.provider.setMode('foreignKeys');
    expect(await deliver(browser.api, response).catch(iamCodeOf)).toBe('OAUTH_PROVIDER_ERROR');
    expect(env.provider.backChannel.map((request) => request.path)).toEqual(expect.arrayContaining(['/token', '/jwks']));
    expect(browser.jar.get('iam_rt')).toBeUndefined();
    const [users] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    expect(users[0]?.n).toBe(0);
  });

  it('a provider that never answers times out instead of hanging the call', async () => {
    await using env = await createOAuthEnv({ oauth: { providerTimeoutInMs: 500 } });
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, accountId(), { account: { email: uniqueEmail('hang'), email_verified: true } });
    env.provider.setMode('hang');
    const started = Date.now();
    expect(await deliver(browser.api, response).catch(iamCodeOf)).toBe('OAUTH_PROVIDER_ERROR');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the GET callback route sends a provider failure to the returnTo as an error code', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, accountId(), {
      returnTo: 'https://app.example.com/after-login',
      account: { email: uniqueEmail('down'), email_verified: true },
    });
    env.provider.setMode('error');
    const answer = await fetch(response.url, { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('https://app.example.com/after-login?error=OAUTH_PROVIDER_ERROR');
    expect(answer.headers.getSetCookie().some((cookie) => cookie.startsWith('iam_rt='))).toBe(false);
  });

  it('after the provider recovers, a new flow signs in', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const first = await visitProvider(env, browser.api, accountId(), { account: { email: uniqueEmail('recovers'), email_verified: true } });
    env.provider.setMode('reset');
    expect(await deliver(browser.api, first).catch(iamCodeOf)).toBe('OAUTH_PROVIDER_ERROR');
    env.provider.setMode('ok');
    const person = accountId();
    const second = await visitProvider(env, browser.api, person, { account: { email: uniqueEmail('recovered'), email_verified: true } });
    authenticated(await deliver(browser.api, second));
  });
});
