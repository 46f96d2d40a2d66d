import { createCookieJar } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { send, setCookies } from '../harness/http';
import { authenticated, uniqueEmail } from '../harness/server';
import { challengeOf, enrolTotp, totpCode } from '../harness/totp';
import { accountId, corp, createOAuthEnv, deliver, visitProvider } from './env';

describe('social sign-in through a real OpenID Provider', () => {
  it('lists the configured providers by id and name', async () => {
    await using env = await createOAuthEnv();
    expect(await env.t.client().api.oauth.providers.query()).toEqual([{ id: corp, name: 'Corp SSO' }]);
  });

  it('asks the provider for a code with state, PKCE S256 and a nonce, at the exact registered redirect URI', async () => {
    await using env = await createOAuthEnv();
    const { url } = await env.t.client().api.oauth.authorize.mutate({ provider: corp });
    const request = new URL(url);
    expect(request.origin + request.pathname).toBe(`${env.provider.issuer}/auth`);
    expect(Object.fromEntries(request.searchParams)).toMatchObject({
      client_id: env.provider.clientId,
      response_type: 'code',
      redirect_uri: `${env.t.url}/oauth/callback/${corp}`,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
    });
    // RFC 7636 §4.2: base64url of a SHA-256; state and nonce carry 256 bits.
    expect(request.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Nothing of the flow rests in the clear: only the state's hash and a sealed verifier.
    const [rows] = await env.t.sql.query<RowDataPacket[]>('SELECT state_hash, code_verifier_sealed FROM oauth_states');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.state_hash).not.toContain(request.searchParams.get('state'));
    expect(rows[0]?.code_verifier_sealed).toMatch(/^v1\./);
  });

  it('a new person with a verified address gets a verified account without a password, a session and its cookies', async () => {
    await using env = await createOAuthEnv();
    const email = uniqueEmail('new');
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, accountId(), { account: { email, email_verified: true, name: 'Ada Lovelace' } });
    const result = authenticated(await deliver(browser.api, response));
    expect(result.user).toMatchObject({ email, name: 'Ada Lovelace', emailVerified: true, roles: ['user'], mfa: { totp: false } });
    expect(browser.jar.get('iam_rt')).toBeTruthy();

    const me = await browser.api.auth.me.query();
    expect(me.id).toBe(result.user.id);
    const [users] = await env.t.sql.query<RowDataPacket[]>('SELECT password_hash, email_verified_at FROM users WHERE id = ?', [me.id]);
    expect(users[0]?.password_hash).toBeNull();
    expect(users[0]?.email_verified_at).toBeInstanceOf(Date);
    expect(await browser.api.oauth.accounts.query()).toEqual([
      expect.objectContaining({ provider: corp, name: 'Corp SSO', email, linkedAt: expect.any(Date) }),
    ]);
    // The same pipeline as a password sign-in: a session on this device, audited.
    expect(await browser.api.session.list.query()).toEqual([expect.objectContaining({ current: true })]);
    const [audits] = await env.t.sql.query<RowDataPacket[]>('SELECT type FROM audit_events WHERE user_id = ? ORDER BY created_at', [me.id]);
    expect(audits.map((row) => row.type)).toEqual(expect.arrayContaining(['user.signed_up', 'oauth.linked', 'login.succeeded']));
    // A provider account can still ask for a password, and the refresh cookie renews the session.
    expect(authenticated(await browser.api.session.refresh.mutate()).user.id).toBe(me.id);
  });

  it('a returning person signs in to the same account, found by subject even after the provider changed the address', async () => {
    await using env = await createOAuthEnv();
    const person = accountId();
    const firstBrowser = env.t.client();
    const first = authenticated(
      await deliver(
        firstBrowser.api,
        await visitProvider(env, firstBrowser.api, person, { account: { email: uniqueEmail('back'), email_verified: true } }),
      ),
    );
    // The provider now gives another address: the identity is the subject, not the address.
    env.provider.accounts.set(person, { email: uniqueEmail('renamed'), email_verified: true });
    const secondBrowser = env.t.client({ deviceOf: firstBrowser.jar });
    const second = authenticated(await deliver(secondBrowser.api, await visitProvider(env, secondBrowser.api, person)));
    expect(second.user.id).toBe(first.user.id);
    const [users] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    expect(users[0]?.n).toBe(1);
    const [accounts] = await env.t.sql.query<RowDataPacket[]>('SELECT subject, last_used_at FROM oauth_accounts');
    expect(accounts).toEqual([expect.objectContaining({ subject: person, last_used_at: expect.any(Date) })]);
  });

  it('an account with an authenticator gets the TOTP challenge the password sign-in gives, and its code completes it', async () => {
    await using env = await createOAuthEnv();
    const person = accountId();
    const enrolling = env.t.client();
    authenticated(
      await deliver(
        enrolling.api,
        await visitProvider(env, enrolling.api, person, { account: { email: uniqueEmail('totp'), email_verified: true } }),
      ),
    );
    const { secret } = await enrolTotp(enrolling.api, env.t.clock.now());

    const browser = env.t.client({ deviceOf: enrolling.jar });
    const challenge = challengeOf(await deliver(browser.api, await visitProvider(env, browser.api, person)));
    expect(challenge.methods).toEqual(['totp', 'backup_code']);
    expect(challenge.reasons).toEqual(['totp_enrolled']);
    expect(browser.jar.get('iam_rt')).toBeUndefined();
    const done = authenticated(
      await browser.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: totpCode(secret, env.t.clock.now(), 1) }),
    );
    expect(done.user.mfa.totp).toBe(true);
    expect(browser.jar.get('iam_rt')).toBeTruthy();
  });

  it('the GET callback route finishes the flow itself: cookies set, then a redirect to the returnTo', async () => {
    await using env = await createOAuthEnv();
    const email = uniqueEmail('redirected');
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, accountId(), {
      returnTo: 'https://app.example.com/app/dashboard?tab=1',
      account: { email, email_verified: true },
    });
    // The provider sent the browser to the default redirect URI; the browser follows it with its cookies.
    expect(response.url.href.startsWith(`${env.t.url}/oauth/callback/${corp}?`)).toBe(true);
    const answer = await fetch(response.url, { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://app.example.com/app/dashboard');
    expect(Object.fromEntries(location.searchParams)).toEqual({ tab: '1', status: 'authenticated' });
    // No token in the URL; the refresh cookie is set and gives the app its access token.
    expect(location.href).not.toMatch(/eyJ/);
    const cookies = setCookies(answer.headers);
    expect(cookies.get('iam_rt')?.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict']));
    browser.jar.store(answer);
    const refreshed = authenticated(await browser.api.session.refresh.mutate());
    expect(refreshed.user.email).toBe(email);

    // Delivering it again: the state is spent; with nowhere to return to, a small page says so.
    const replay = await send(response.url.href, { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('content-type')).toMatch(/text\/html/);
    expect(replay.text).toContain('The sign-in attempt is not valid');
  });

  it('the GET callback route sends errors to the returnTo with a catalog code, and to defaultReturnTo when the flow is unknown', async () => {
    await using env = await createOAuthEnv({ oauth: { defaultReturnTo: 'https://app.example.com/app/signed-in' } });
    const browser = env.t.client();
    const unknown = await fetch(`${env.t.url}/oauth/callback/${corp}?code=abc&state=forged`, {
      redirect: 'manual',
      headers: { cookie: browser.jar.header() },
    });
    expect(unknown.status).toBe(303);
    expect(unknown.headers.get('location')).toBe('https://app.example.com/app/signed-in?error=OAUTH_STATE_INVALID');

    // The person cancels at the provider: RFC 6749 §4.1.2.1 `error=access_denied` with the state.
    const { url } = await browser.api.oauth.authorize.mutate({ provider: corp, returnTo: 'https://app.example.com/after-login' });
    const state = new URL(url).searchParams.get('state') ?? '';
    const cancelled = await fetch(`${env.t.url}/oauth/callback/${corp}?error=access_denied&state=${state}`, {
      redirect: 'manual',
      headers: { cookie: browser.jar.header() },
    });
    expect(cancelled.headers.get('location')).toBe('https://app.example.com/after-login?error=OAUTH_PROVIDER_ERROR&reason=access_denied');

    // An unknown provider is a 404 page, not a redirect.
    const stranger = await fetch(`${env.t.url}/oauth/callback/nobody?code=a&state=b`, { redirect: 'manual' });
    expect(stranger.status).toBe(404);
    expect(stranger.headers.get('location')).toBeNull();
  });

  it('a form_post response (Apple) is turned into a GET of the same route, so the browser sends its canary', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const response = await visitProvider(env, browser.api, accountId(), {
      returnTo: 'https://app.example.com/after-login',
      account: { email: uniqueEmail('posted'), email_verified: true },
    });
    // A cross-site POST carries no SameSite=Lax cookie: no cookie header here.
    const posted = await fetch(`${env.t.url}/oauth/callback/${corp}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: response.code, state: response.state, iss: response.iss ?? '' }).toString(),
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.getSetCookie()).toEqual([]);
    const again = new URL(posted.headers.get('location') ?? '');
    expect(again.origin + again.pathname).toBe(`${env.t.url}/oauth/callback/${corp}`);
    expect(again.searchParams.get('code')).toBe(response.code);
    const jar = createCookieJar();
    jar.store(await fetch(again, { redirect: 'manual', headers: { cookie: browser.jar.header() } }));
    expect(jar.get('iam_rt')).toBeTruthy();
  });
});

describe('a plain OAuth 2 provider, configured by its endpoints and a profile field map', () => {
  it('signs in with the userinfo JSON mapped through the field map', async () => {
    await using env = await createOAuthEnv({
      extraProviders: (peer) => [
        {
          id: 'plain',
          type: 'oauth2',
          name: 'Plain OAuth',
          authorizationUrl: `${peer.issuer}/auth`,
          tokenUrl: `${peer.issuer}/token`,
          userinfoUrl: `${peer.issuer}/me`,
          issuer: peer.issuer,
          clientId: peer.clientId,
          clientSecret: peer.clientSecret,
          scopes: ['openid', 'email', 'profile'],
          profile: { id: 'sub', email: 'email', emailVerified: 'email_verified', name: 'name' },
          allowInsecureHttp: true,
        },
      ],
    });
    const browser = env.t.client();
    const email = uniqueEmail('plain');
    const { url } = await browser.api.oauth.authorize.mutate({ provider: 'plain' });
    // No nonce: this is not OpenID Connect.
    expect(new URL(url).searchParams.get('nonce')).toBeNull();
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const person = accountId();
    env.provider.accounts.set(person, { email, email_verified: true, name: 'Plain Person' });
    const back = await env.provider.authorize(url, person);
    const result = authenticated(
      await deliver(
        browser.api,
        {
          code: back.searchParams.get('code') ?? '',
          state: back.searchParams.get('state') ?? '',
          iss: back.searchParams.get('iss') ?? undefined,
        },
        'plain',
      ),
    );
    expect(result.user).toMatchObject({ email, name: 'Plain Person', emailVerified: true });
    expect(await browser.api.oauth.accounts.query()).toEqual([expect.objectContaining({ provider: 'plain', name: 'Plain OAuth' })]);
  });
});
