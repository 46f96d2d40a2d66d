import { isChallengeRequired, isIamError, type RefreshChallenge, refreshChallengeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { codeFrom, createTestServer } from '../harness/server';

async function refreshTokenCount(sql: Pool, userId: string): Promise<number> {
  const [rows] = await sql.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE s.user_id = ?',
    [userId],
  );
  return Number(rows[0]?.n);
}

describe('the typed client', () => {
  it('shares one refresh between many calls that failed on an expired token, then retries them', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    let refreshRequests = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).includes('session.refresh')) refreshRequests++;
      return fetch(input, init);
    };
    const { api } = t.client({ deviceOf: user.jar, fetch: countingFetch });
    await api.auth.login.mutate({ email: user.email, password: user.password });
    t.clock.advance(16 * 60);
    // Separate macrotasks, so the calls travel in separate HTTP requests and fail separately.
    const calls = [];
    for (let i = 0; i < 8; i++) {
      calls.push(api.auth.me.query());
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const results = await Promise.all(calls);
    expect(results.every((me) => me.id === user.userId)).toBe(true);
    expect(refreshRequests).toBe(1);
    // Sign-up and login created one token each; exactly one rotation happened.
    expect(await refreshTokenCount(t.sql, user.userId)).toBe(3);
  });

  it('tells the application when the session cannot be renewed', async () => {
    await using t = await createTestServer();
    const ended: string[] = [];
    const user = await t.signUp();
    const { api, jar } = t.client({ deviceOf: user.jar, onSessionEnd: (reason) => ended.push(reason) });
    await api.auth.login.mutate({ email: user.email, password: user.password });
    await api.session.revokeAll.mutate({ includeCurrent: true });
    // Revoked: no refresh can cure it, so the application hears it from the first refused call.
    await expect(api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    expect(ended).toEqual(['revoked']);
    // The token is gone: the next call goes without it, its refresh is refused, the cookie cleared.
    t.clock.advance(16 * 60);
    await expect(api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'UNAUTHENTICATED'));
    expect(ended).toEqual(['revoked', 'refresh_failed']);
    expect(jar.get('iam_rt')).toBeUndefined();
  });

  it('ends the session on the device whose session another device revoked, at its first refused call', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const ended: string[] = [];
    const other = await t.signInOnNewDevice(user, { onSessionEnd: (reason) => ended.push(reason) });
    await user.api.session.revoke.mutate({ sessionId: other.sessionId });
    await expect(other.api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    expect(ended).toEqual(['revoked']);
    // A call that fails for another reason ends nothing.
    await expect(user.api.session.revoke.mutate({ sessionId: 'ses_unknown' })).rejects.toBeDefined();
    expect(await user.api.auth.me.query()).toMatchObject({ email: user.email });
  });

  it('does not refresh on a wrong password', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await expect(user.api.auth.login.mutate({ email: user.email, password: 'definitely wrong' })).rejects.toSatisfy((error) =>
      isIamError(error, 'INVALID_CREDENTIALS'),
    );
    expect(await refreshTokenCount(t.sql, user.userId)).toBe(1);
  });
});

describe('the typed client and refresh challenges', () => {
  const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
  /** A residential address in Great Britain and one in Brazil (GeoLite2 City data). */
  const london = '81.2.69.142';
  const portoAlegre = '2.16.0.1';

  it('hands a challenge from its own refresh to the application, and the session goes on once it is completed', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const user = await t.signUp();
    let ip = london;
    const travellingFetch: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('x-forwarded-for', ip);
      headers.set('user-agent', chromeOnLinux);
      return fetch(input, { ...init, headers });
    };
    const challenges: RefreshChallenge[] = [];
    const ended: string[] = [];
    const { api } = t.client({
      deviceOf: user.jar,
      fetch: travellingFetch,
      onChallenge: (challenge) => challenges.push(challenge),
      onSessionEnd: (reason) => ended.push(reason),
    });
    await api.auth.login.mutate({ email: user.email, password: user.password });

    // The same device, now in another country, after its access token expired.
    ip = portoAlegre;
    t.clock.advance(16 * 60);
    const refused = await api.auth.me.query().catch((error: unknown) => error);
    expect(isChallengeRequired(refused)).toBe(true);
    const challenge = refreshChallengeOf(refused);
    expect(challenge).toMatchObject({ status: 'mfa_required', methods: expect.arrayContaining(['email_otp']) });
    expect(challenges).toEqual([challenge]);
    expect(ended).toEqual([]);

    // The user types the emailed code; the tokens it returns carry the session on.
    const mail = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'login_code');
    const result = await api.mfa.verify.mutate({ challengeId: challenge?.challengeId ?? '', code: codeFrom(mail) });
    expect(result.status).toBe('authenticated');
    expect((await api.auth.me.query()).id).toBe(user.userId);
    expect(ended).toEqual([]);
  });

  it('refreshes ahead of expiry when asked to, so calls never meet an expired token', async () => {
    await using t = await createTestServer({ lifetimes: { accessTokenTtlInSeconds: 6 } });
    const user = await t.signUp();
    let refreshes = 0;
    let expiredCalls = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      if (String(input).includes('session.refresh')) refreshes++;
      const response = await fetch(input, init);
      if (String(input).includes('auth.me') && response.status === 401) expiredCalls++;
      return response;
    };
    // 6 s tokens, renewed 4 s ahead less up to 1.3 s of jitter, and never sooner than a
    // quarter of the token's life: due 1.5 to 2 s after each renewal.
    const { api } = t.client({ deviceOf: user.jar, fetch: countingFetch, refreshAhead: { secondsBeforeExpiry: 4 } });
    const signedIn = await api.auth.login.mutate({ email: user.email, password: user.password });
    if (signedIn.status !== 'authenticated') throw new Error(signedIn.status);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(refreshes).toBe(0);
    // Calls through the first token's expiry and beyond never fail on an expired one.
    const until = Date.now() + 7_000;
    while (Date.now() < until) {
      expect((await api.auth.me.query()).id).toBe(user.userId);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(expiredCalls).toBe(0);
    // A few renewals, each a rotation of the session's refresh token (no loop, no reuse).
    expect(refreshes).toBeGreaterThanOrEqual(3);
    expect(refreshes).toBeLessThanOrEqual(6);
    expect(await refreshTokenCount(t.sql, user.userId)).toBe(2 + refreshes);
  });

  it('a refresh ahead that the network loses is retried with backoff, at most maxRetries times', async () => {
    await using t = await createTestServer({ lifetimes: { accessTokenTtlInSeconds: 8 } });
    const user = await t.signUp();
    let attempts = 0;
    const unreachable: typeof fetch = (input, init) => {
      if (String(input).includes('session.refresh')) {
        attempts++;
        return Promise.reject(new TypeError('fetch failed'));
      }
      return fetch(input, init);
    };
    const ended: string[] = [];
    const { api } = t.client({
      deviceOf: user.jar,
      fetch: unreachable,
      onSessionEnd: (reason) => ended.push(reason),
      refreshAhead: { secondsBeforeExpiry: 7, maxRetries: 3, retryBaseInMs: 20 },
    });
    await api.auth.login.mutate({ email: user.email, password: user.password });
    // Due 2 s after sign-in (a quarter of the token's life), then three quick retries.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // The first try and three retries, then it stops; the session is not given up for a network failure.
    expect(attempts).toBe(4);
    expect(ended).toEqual([]);
    expect((await api.auth.me.query()).id).toBe(user.userId);
  });
});
