import { randomBytes } from 'node:crypto';
import { createBffClient } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { bearer, errorOf, refusalOf, send } from '../harness/http';
import { codeFrom, createTestServer, type TestServer, uniqueEmail } from '../harness/server';
import { hmacKeys, introspectOnlyKey, mainKey, postSigned } from './signed';

/** A BFF whose clock is the service's (the tests move it). */
function bffClient(t: TestServer, key = mainKey) {
  return createBffClient({ url: t.trpcUrl, keyId: key.id, secret: key.secret, now: () => t.clock.now().getTime() });
}

const browser = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
};

/**
 * A user who signed up from a desktop browser, and that browser as its BFF forwards it: the
 * address and user agent the session recorded and the device canary it was given, so no
 * anomaly check objects to the BFF's refreshes.
 */
async function signUpFromBrowser(t: TestServer) {
  const email = uniqueEmail('bff');
  const password = `correct horse ${randomBytes(6).toString('hex')}`;
  const { api, jar } = t.client({ headers: { 'user-agent': browser.userAgent } });
  const { challengeId } = await api.auth.signup.mutate({ email, password });
  const signedIn = await api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(await t.lastMailTo(email)) });
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT ip, user_agent FROM sessions WHERE user_id = ?', [signedIn.user.id]);
  const session = rows[0] as { ip: string; user_agent: string | null } | undefined;
  if (!session) throw new Error('no session');
  return {
    userId: signedIn.user.id,
    jar,
    refreshToken: jar.get('iam_rt') ?? '',
    client: { ip: session.ip, userAgent: session.user_agent ?? '', canaryId: jar.get('iam_cid') ?? '' },
  };
}

/** The AuthResult branch of a bff.refresh answer (a Challenge fails the test). */
async function authenticated<T extends { status: string }>(promise: Promise<T>): Promise<Extract<T, { status: 'authenticated' }>> {
  const result = await promise;
  if (result.status !== 'authenticated') throw new Error(`expected tokens, got ${JSON.stringify(result)}`);
  return result as Extract<T, { status: 'authenticated' }>;
}

describe('bff procedures', () => {
  it('bff.introspect: active with claims, refreshRecommended once less than a third of the lifetime is left, then expired', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const bff = bffClient(t);

    const fresh = await bff.bff.introspect.mutate({ accessToken: user.accessToken });
    if (!fresh.active) throw new Error('expected an active token');
    expect(fresh).toMatchObject({ active: true, sub: user.userId, roles: ['user'], refreshRecommended: false });
    expect(fresh.sid).toMatch(/^ses_/);
    expect(fresh.exp).toBeInstanceOf(Date);
    expect(fresh.expiresInSeconds).toBeGreaterThan(890);
    expect(fresh.expiresInSeconds).toBeLessThanOrEqual(900);

    t.clock.advance(590);
    expect(await bff.bff.introspect.mutate({ accessToken: user.accessToken })).toMatchObject({ active: true, refreshRecommended: false });
    t.clock.advance(11); // 601 s of 900: less than a third left
    const late = await bff.bff.introspect.mutate({ accessToken: user.accessToken });
    expect(late).toMatchObject({ active: true, refreshRecommended: true });
    if (late.active) expect(late.expiresInSeconds).toBeLessThan(300);

    t.clock.advance(310);
    expect(await bff.bff.introspect.mutate({ accessToken: user.accessToken })).toEqual({ active: false, reason: 'expired' });
  });

  it('bff.introspect: revoked and invalid tokens are answers, not errors', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const other = await t.signUp();
    const bff = bffClient(t);

    await user.api.auth.logout.mutate();
    expect(await bff.bff.introspect.mutate({ accessToken: user.accessToken })).toEqual({ active: false, reason: 'revoked' });

    const [header, payload, signature = ''] = other.accessToken.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: user.userId, roles: ['admin'] })).toString('base64url')}.${signature}`;
    const flipped = `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    for (const accessToken of ['', 'garbage', forged, flipped, `${other.accessToken}x`]) {
      expect(await bff.bff.introspect.mutate({ accessToken })).toEqual({ active: false, reason: 'invalid' });
    }
    expect(await bff.bff.introspect.mutate({ accessToken: other.accessToken })).toMatchObject({ active: true, sub: other.userId });
  });

  it('bff.authorize: all (default) and any of the roles; a refusal says why', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const bff = bffClient(t);
    const accessToken = user.accessToken;

    expect(await bff.bff.authorize.mutate({ accessToken, roles: ['user'] })).toMatchObject({ allowed: true, sub: user.userId });
    expect(await bff.bff.authorize.mutate({ accessToken, roles: ['user', 'admin'] })).toEqual({
      allowed: false,
      reason: 'missing_roles',
      missingRoles: ['admin'],
    });
    expect(await bff.bff.authorize.mutate({ accessToken, roles: ['user', 'admin'], mode: 'all' })).toMatchObject({ allowed: false });
    expect(await bff.bff.authorize.mutate({ accessToken, roles: ['admin', 'user'], mode: 'any' })).toMatchObject({ allowed: true });
    expect(await bff.bff.authorize.mutate({ accessToken, roles: ['admin', 'auditor'], mode: 'any' })).toMatchObject({
      allowed: false,
      reason: 'missing_roles',
    });
    expect(await bff.bff.authorize.mutate({ accessToken: 'garbage', roles: ['user'] })).toEqual({ allowed: false, reason: 'invalid' });
    t.clock.advance(910); // past `exp` and its 5 s tolerance
    expect(await bff.bff.authorize.mutate({ accessToken, roles: ['user'] })).toEqual({ allowed: false, reason: 'expired' });

    // Input is strict: no roles, a bad mode, an extra key.
    const bad = await postSigned(t, '/trpc/bff.authorize', { accessToken, roles: [] });
    expect(errorOf(bad).iamCode).toBe('INVALID_INPUT');
    expect(errorOf(await postSigned(t, '/trpc/bff.authorize', { accessToken, roles: ['user'], mode: 'most' })).iamCode).toBe(
      'INVALID_INPUT',
    );
    expect(errorOf(await postSigned(t, '/trpc/bff.introspect', { accessToken, admin: true })).iamCode).toBe('INVALID_INPUT');
  });

  it('bff.refresh rotates through the one refresh flow: the new token works next time, the old one reused later is REFRESH_TOKEN_REUSED', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await signUpFromBrowser(t);
    const bff = bffClient(t);
    const first = user.refreshToken;
    const { client } = user;
    const canaryId = client.canaryId;

    const rotated = await authenticated(bff.bff.refresh.mutate({ refreshToken: first, client: { ...client, ip: '127.0.0.2' } }));
    expect(rotated).toMatchObject({ status: 'authenticated', user: { id: user.userId, roles: ['user'] }, canaryId });
    expect(rotated.refreshToken).not.toBe(first);
    expect(rotated.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.accessTokenExpiresAt).toBeInstanceOf(Date);
    expect(rotated.refreshTokenExpiresAt).toBeInstanceOf(Date);
    const me = await send(`${t.trpcUrl}/auth.me`, { headers: bearer(rotated.accessToken) });
    expect(me.status).toBe(200);

    // The forwarded browser, not the BFF, is what the session records.
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT ip FROM sessions WHERE user_id = ?', [user.userId]);
    expect(rows[0]).toMatchObject({ ip: '127.0.0.2' });

    const next = await authenticated(bff.bff.refresh.mutate({ refreshToken: rotated.refreshToken, client }));
    expect(next.refreshToken).not.toBe(rotated.refreshToken);

    t.clock.advance(31); // past the grace window
    expect(await refusalOf(bff.bff.refresh.mutate({ refreshToken: first, client }))).toBe('REFRESH_TOKEN_REUSED');
    // Reuse ends the whole family, the newest token too.
    expect(await refusalOf(bff.bff.refresh.mutate({ refreshToken: next.refreshToken, client }))).toBe('REFRESH_TOKEN_INVALID');
    expect(await bff.bff.introspect.mutate({ accessToken: next.accessToken })).toEqual({ active: false, reason: 'revoked' });
  });

  it('bff.refresh: a retry from the same device inside the grace window gets the same successor; from another device it is theft', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await signUpFromBrowser(t);
    const bff = bffClient(t);
    const { client } = user;
    const presented = user.refreshToken;

    const first = await authenticated(bff.bff.refresh.mutate({ refreshToken: presented, client }));
    // A lost response: the same token again, same device, inside the window.
    t.clock.advance(5);
    const retry = await authenticated(bff.bff.refresh.mutate({ refreshToken: presented, client }));
    expect(retry.refreshToken).toBe(first.refreshToken);

    const thief = { ...client, canaryId: randomBytes(32).toString('base64url') };
    expect(await refusalOf(bff.bff.refresh.mutate({ refreshToken: presented, client: thief }))).toBe('REFRESH_TOKEN_REUSED');
  });

  it('bff.refresh without a canary issues one (a device the session has not seen: the anomaly checks may ask for a Challenge)', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await signUpFromBrowser(t);
    const bff = bffClient(t);
    const { canaryId: _known, ...client } = user.client;
    const result = await bff.bff.refresh.mutate({ refreshToken: user.refreshToken, client });
    expect(result.canaryId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.canaryId).not.toBe(user.jar.get('iam_cid'));
    expect(['authenticated', 'mfa_required']).toContain(result.status);
  });

  it('bff.refresh checks the forwarded client: an IP, a bounded user agent, a canary of the issued format; unknown tokens are REFRESH_TOKEN_INVALID', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const refreshToken = user.jar.get('iam_rt') ?? '';
    for (const client of [
      { ip: 'localhost', userAgent: 'x' },
      { ip: '999.1.1.1', userAgent: 'x' },
      { ip: '203.0.113.7', userAgent: 'x'.repeat(513) },
      { ip: '203.0.113.7', userAgent: 'x', canaryId: 'short' },
      { ip: '203.0.113.7' },
    ]) {
      const response = await postSigned(t, '/trpc/bff.refresh', { refreshToken, client });
      expect(response.status, JSON.stringify(client).slice(0, 80)).toBe(400);
      expect(errorOf(response).iamCode).toBe('INVALID_INPUT');
    }
    const bff = bffClient(t);
    expect(await refusalOf(bff.bff.refresh.mutate({ refreshToken: 'unknown-token', client: browser }))).toBe('REFRESH_TOKEN_INVALID');
    // IPv4-mapped IPv6 is recorded as IPv4; IPv6 is an address like any other.
    const browserUser = await signUpFromBrowser(t);
    const known = browserUser.client;
    await t.sql.query("UPDATE sessions SET ip = '127.0.0.9' WHERE user_id = ?", [browserUser.userId]);
    const mapped = await authenticated(
      bff.bff.refresh.mutate({ refreshToken: browserUser.refreshToken, client: { ...known, ip: '::ffff:127.0.0.1' } }),
    );
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT ip FROM sessions WHERE user_id = ?', [browserUser.userId]);
    expect(rows[0]).toMatchObject({ ip: '127.0.0.1' });
    const v6 = await bff.bff.refresh.mutate({ refreshToken: mapped.refreshToken, client: { ...known, ip: '2001:db8::1' } });
    expect(['authenticated', 'mfa_required']).toContain(v6.status);
  });

  it('bff.logout ends the session: its access tokens are revoked, its refresh token is dead', async () => {
    await using t = await createTestServer({ hmacKeys });
    const byRefresh = await t.signUp();
    const byAccess = await t.signUp();
    const bff = bffClient(t);

    expect(await bff.bff.logout.mutate({ refreshToken: byRefresh.jar.get('iam_rt') ?? '', client: browser })).toEqual({
      status: 'signed_out',
    });
    expect(await bff.bff.introspect.mutate({ accessToken: byRefresh.accessToken })).toEqual({ active: false, reason: 'revoked' });
    expect(await refusalOf(bff.bff.refresh.mutate({ refreshToken: byRefresh.jar.get('iam_rt') ?? '', client: browser }))).toBe(
      'REFRESH_TOKEN_INVALID',
    );

    expect(await bff.bff.logout.mutate({ accessToken: byAccess.accessToken })).toEqual({ status: 'signed_out' });
    const me = await send(`${t.trpcUrl}/auth.me`, { headers: bearer(byAccess.accessToken) });
    expect(errorOf(me).iamCode).toBe('SESSION_REVOKED');
    // Idempotent, and it needs something to sign out.
    expect(await bff.bff.logout.mutate({ accessToken: byAccess.accessToken })).toEqual({ status: 'signed_out' });
    expect(errorOf(await postSigned(t, '/trpc/bff.logout', {})).iamCode).toBe('INVALID_INPUT');
  });

  it('an in-process BFF (createCaller with a service) calls bff.*; without one it is refused', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const inProcess = t.iam.createCaller({ service: { keyId: 'in-process' } });
    expect(await inProcess.bff.introspect({ accessToken: user.accessToken })).toMatchObject({ active: true, sub: user.userId });
    expect(await inProcess.bff.authorize({ accessToken: user.accessToken, roles: ['user'] })).toMatchObject({ allowed: true });

    await expect(
      t.iam.createCaller({ bearerToken: user.accessToken }).bff.introspect({ accessToken: user.accessToken }),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'HMAC_INVALID' },
    });
  });

  it('the typed BFF client batches parallel calls (at most 10 to a request), sends no cookies, and reports refusals with their code', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const requests: Array<{ url: string; cookie: string | null }> = [];
    const bff = createBffClient({
      url: t.trpcUrl,
      keyId: mainKey.id,
      secret: mainKey.secret,
      headers: { cookie: 'iam_rt=should-not-be-sent' },
      fetch: (input, init) => {
        requests.push({ url: String(input), cookie: new Headers(init?.headers).get('cookie') });
        return fetch(input, init);
      },
    });
    const results = await Promise.all(Array.from({ length: 12 }, () => bff.bff.introspect.mutate({ accessToken: user.accessToken })));
    for (const result of results) expect(result).toMatchObject({ active: true, sub: user.userId });
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.cookie).toBeNull();
      expect(new URL(request.url).pathname.split(',').length).toBeLessThanOrEqual(10);
    }

    const limited = createBffClient({ url: t.trpcUrl, keyId: introspectOnlyKey.id, secret: introspectOnlyKey.secret });
    expect(await refusalOf(limited.bff.authorize.mutate({ accessToken: user.accessToken, roles: ['user'] }))).toBe('HMAC_INVALID');
    const wrong = createBffClient({ url: t.trpcUrl, keyId: mainKey.id, secret: 'not the secret 0123456789abcdefghijklmnopq' });
    expect(await refusalOf(wrong.bff.introspect.mutate({ accessToken: user.accessToken }))).toBe('HMAC_INVALID');
  });
});
