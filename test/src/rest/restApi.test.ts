import { solveBotCheck } from '@iam/client';
import type { BotCheckChallenge } from '@iam/shared';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { errorOf, post, type RawResponse, send, setCookies } from '../harness/http';
import { codeFrom, createTestServer, type TestServer, uniqueEmail } from '../harness/server';

interface Envelope {
  error: { code: string; iamCode: string; message: string; retryAfterSeconds?: number; issues?: unknown[]; botCheck?: unknown };
}

/** A script's view of the API: JSON in and out, and the cookies the service sets. */
function restClient(t: TestServer) {
  const cookies = new Map<string, string>();
  const call = async (method: 'GET' | 'POST', path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await send(`${t.url}/api/v1/${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
    });
    for (const [name, cookie] of setCookies(response.headers)) {
      if (cookie.cleared) cookies.delete(name);
      else cookies.set(name, cookie.value);
    }
    return response;
  };
  return { call, cookies };
}

function envelopeOf(response: RawResponse): Envelope['error'] {
  const body = response.body as Envelope | undefined;
  if (!body?.error?.iamCode) throw new Error(`expected an error envelope, got ${response.status}: ${response.text.slice(0, 300)}`);
  expect(Object.keys(body.error)).toEqual(expect.arrayContaining(['code', 'iamCode', 'message']));
  expect(response.text).not.toMatch(/\bat .+\.ts:\d+|stack/i);
  return body.error;
}

async function countOf(t: TestServer, sql: string, params: unknown[] = []): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>(sql, params);
  return Number(rows[0]?.n);
}

/** Signs up and verifies through /api/v1 in one cookie jar; returns it signed in. */
async function signUpOverRest(t: TestServer) {
  const client = restClient(t);
  const email = uniqueEmail('rest');
  const password = `correct horse ${Math.random().toString(36).slice(2)}`;
  const signup = await client.call('POST', 'auth/signup', { body: { email, password } });
  expect(signup.status).toBe(200);
  const { challengeId } = signup.body as { challengeId: string };
  const verified = await client.call('POST', 'auth/verifyEmail', { body: { challengeId, code: codeFrom(await t.lastMailTo(email)) } });
  expect(verified.status).toBe(200);
  return { client, email, password, accessToken: (verified.body as { accessToken: string }).accessToken };
}

/** `auth.login` as a script would send it: when the bot check asks for a proof of work, solve it and send again. */
async function loginWithProof(t: TestServer, body: { email: string; password: string }): Promise<RawResponse> {
  const first = await restClient(t).call('POST', 'auth/login', { body });
  if (first.status !== 400 || envelopeOf(first).iamCode !== 'BOT_CHECK_REQUIRED') return first;
  const botCheck = await solveBotCheck((first.body as { error: { botCheck: BotCheckChallenge } }).error.botCheck);
  return restClient(t).call('POST', 'auth/login', { body: { ...body, botCheck } });
}

describe('/api/v1: the procedures over plain JSON', () => {
  it('refuses bad input with the INVALID_INPUT envelope and changes nothing', async () => {
    await using t = await createTestServer();
    const { call } = restClient(t);
    const badEmail = await call('POST', 'auth/signup', { body: { email: 'not an address', password: 'correct horse battery' } });
    expect(badEmail.status).toBe(400);
    expect(envelopeOf(badEmail)).toMatchObject({
      code: 'BAD_REQUEST',
      iamCode: 'INVALID_INPUT',
      issues: [expect.objectContaining({ path: 'email' })],
    });
    const unknownField = await call('POST', 'auth/signup', {
      body: { email: uniqueEmail(), password: 'correct horse battery', admin: true },
    });
    expect(envelopeOf(unknownField).iamCode).toBe('INVALID_INPUT');

    const brokenJson = await call('POST', 'auth/signup', { body: '{"email":' });
    expect([brokenJson.status, envelopeOf(brokenJson).iamCode, envelopeOf(brokenJson).code]).toEqual([400, 'INVALID_INPUT', 'PARSE_ERROR']);
    const form = await call('POST', 'auth/signup', {
      body: 'email=a%40example.com',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([form.status, envelopeOf(form).iamCode]).toEqual([415, 'INVALID_INPUT']);
    const huge = await call('POST', 'auth/signup', { body: { email: uniqueEmail(), password: 'x'.repeat(200_000) } });
    expect([huge.status, envelopeOf(huge).iamCode]).toEqual([413, 'INVALID_INPUT']);
    const wrongMethod = await call('GET', 'auth/signup');
    expect([wrongMethod.status, wrongMethod.headers.get('allow'), envelopeOf(wrongMethod).iamCode]).toEqual([405, 'POST', 'INVALID_INPUT']);

    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM users')).toBe(0);
    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM challenges')).toBe(0);
    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM audit_events')).toBe(0);
    expect(t.mail.messages).toHaveLength(0);
  });

  it('answers an unknown path, and the procedures kept for services and admins, with NOT_FOUND', async () => {
    await using t = await createTestServer();
    const { call } = restClient(t);
    for (const path of ['auth/nothing', 'bff/introspect', 'admin/users/list', 'auth', '']) {
      const response = await call('POST', path, { body: {} });
      expect([response.status, envelopeOf(response).iamCode], path).toEqual([404, 'NOT_FOUND']);
    }
  });

  it('refuses a wrong password with the same status and code as /trpc, and rate-limits as /trpc does (Retry-After)', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const wrong = { email: user.email, password: 'not the password at all' };
    const overTrpc = await post(t.trpcUrl, 'auth.login', JSON.stringify({ json: wrong }));
    const overRest = await restClient(t).call('POST', 'auth/login', { body: wrong });
    expect(overRest.status).toBe(overTrpc.status);
    expect(envelopeOf(overRest)).toMatchObject({ code: errorOf(overTrpc).code, iamCode: errorOf(overTrpc).iamCode });
    expect(envelopeOf(overRest)).toMatchObject({ code: 'UNAUTHORIZED', iamCode: 'INVALID_CREDENTIALS' });

    // Both count toward the same limit: 5 consecutive failures, then even the right password waits.
    // The failures also put the address under attack, and the bot check holds here as on /trpc:
    // a call without a proof of work is refused (and counts for nothing) until one is solved.
    const outcomes = [errorOf(overTrpc).iamCode, envelopeOf(overRest).iamCode];
    while (outcomes.length < 5) outcomes.push(envelopeOf(await loginWithProof(t, wrong)).iamCode);
    expect(outcomes).toEqual(Array(5).fill('INVALID_CREDENTIALS'));
    const limited = await loginWithProof(t, { email: user.email, password: user.password });
    expect(limited.status, limited.text).toBe(429);
    expect(envelopeOf(limited)).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      iamCode: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(envelopeOf(limited).retryAfterSeconds).toBeGreaterThanOrEqual(14 * 60);
    expect(Number(limited.headers.get('retry-after'))).toBe(envelopeOf(limited).retryAfterSeconds);
    expect(setCookies(limited.headers).has('iam_rt')).toBe(false);
  });

  it('sets the session cookies on a sign-in; refresh works from the cookie alone; logout revokes the session', async () => {
    await using t = await createTestServer();
    const { client, email, password } = await signUpOverRest(t);
    const login = await client.call('POST', 'auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ status: 'authenticated', user: { email, emailVerified: true }, accessToken: expect.any(String) });
    const body = login.body as { accessToken: string; accessTokenExpiresAt: string; user: { createdAt: string } };
    expect(body.accessTokenExpiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(login.text).not.toContain(client.cookies.get('iam_rt') ?? 'no cookie');
    const refreshCookie = setCookies(login.headers).get('iam_rt');
    expect(refreshCookie?.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(login.headers.get('cache-control')).toBe('no-store');

    const before = client.cookies.get('iam_rt');
    const refreshed = await client.call('POST', 'session/refresh');
    expect(refreshed.status).toBe(200);
    const accessToken = (refreshed.body as { status: string; accessToken: string }).accessToken;
    expect(refreshed.body).toMatchObject({ status: 'authenticated' });
    expect(client.cookies.get('iam_rt')).not.toBe(before);

    const me = await client.call('GET', 'auth/me', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email, roles: ['user'], disabled: false });
    const sessionId = (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;
    const sessions = await client.call('GET', 'session/list', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(JSON.stringify(sessions.body)).toContain(sessionId);

    const logout = await client.call('POST', 'auth/logout', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(logout.status).toBe(200);
    expect(setCookies(logout.headers).get('iam_rt')?.cleared).toBe(true);
    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM sessions WHERE id = ? AND revoked_at IS NOT NULL', [sessionId])).toBe(1);
    const after = await client.call('GET', 'auth/me', { headers: { authorization: `Bearer ${accessToken}` } });
    expect([after.status, envelopeOf(after).iamCode]).toEqual([401, 'SESSION_REVOKED']);
    const noCookie = await client.call('POST', 'session/refresh');
    expect([noCookie.status, envelopeOf(noCookie).iamCode]).toEqual([401, 'REFRESH_TOKEN_INVALID']);
  });

  it('refuses a state change from a foreign browser origin before it runs, and lets the service’s own origin in', async () => {
    await using t = await createTestServer();
    const { call } = restClient(t);
    const email = uniqueEmail('csrf');
    const foreign = await call('POST', 'auth/signup', {
      body: { email, password: 'correct horse battery' },
      headers: { origin: 'https://evil.example' },
    });
    expect([foreign.status, envelopeOf(foreign).iamCode]).toEqual([403, 'FORBIDDEN']);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const opaque = await call('POST', 'auth/logout', { headers: { origin: 'null' } });
    expect([opaque.status, envelopeOf(opaque).iamCode]).toEqual([403, 'FORBIDDEN']);
    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])).toBe(0);

    const preflight = await send(`${t.url}/api/v1/auth/signup`, { method: 'OPTIONS', headers: { origin: t.url } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(t.url);
    const own = await call('POST', 'auth/signup', { body: { email, password: 'correct horse battery' }, headers: { origin: t.url } });
    expect(own.status).toBe(200);
    expect(own.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])).toBe(1);
  });

  it('runs the Bearer and step-up procedures with their guards: markup refused, a step-up by mail, then the account deleted', async () => {
    await using t = await createTestServer();
    const { client, accessToken } = await signUpOverRest(t);
    const auth = { authorization: `Bearer ${accessToken}` };
    const userId = ((await client.call('GET', 'auth/me', { headers: auth })).body as { id: string }).id;

    const markup = await client.call('POST', 'auth/updateProfile', { body: { name: '<img src=x onerror=alert(1)>' }, headers: auth });
    expect([markup.status, envelopeOf(markup).iamCode]).toEqual([400, 'XSS_DETECTED']);
    const renamed = await client.call('POST', 'auth/updateProfile', { body: { name: 'Ada Lovelace' }, headers: auth });
    expect([renamed.status, (renamed.body as { name: string }).name]).toEqual([200, 'Ada Lovelace']);
    expect(await countOf(t, "SELECT COUNT(*) AS n FROM users WHERE id = ? AND name = 'Ada Lovelace'", [userId])).toBe(1);
    expect(await countOf(t, "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type = 'user.profile_updated'", [userId])).toBe(
      1,
    );
    const notYours = await client.call('POST', 'session/revoke', { body: { sessionId: 'ses_00000000000000000000' }, headers: auth });
    expect([notYours.status, envelopeOf(notYours).iamCode]).toEqual([404, 'NOT_FOUND']);

    const unguarded = await client.call('POST', 'auth/deleteAccount', { body: {}, headers: auth });
    expect([unguarded.status, envelopeOf(unguarded).iamCode]).toEqual([403, 'STEP_UP_REQUIRED']);
    const mailsBefore = t.mail.messages.length;
    const begun = await client.call('POST', 'mfa/stepUp/begin', { body: { action: 'account_delete' }, headers: auth });
    expect(begun.status, begun.text).toBe(200);
    let seen = 0;
    const mail = await t.mail.waitFor((message) => seen++ >= mailsBefore && message.tags.template === 'login_code');
    const verified = await client.call('POST', 'mfa/stepUp/verify', {
      body: { challengeId: (begun.body as { challengeId: string }).challengeId, code: codeFrom(mail) },
      headers: auth,
    });
    expect(verified.status, verified.text).toBe(200);
    const stepUpToken = (verified.body as { stepUpToken: string }).stepUpToken;
    const deleted = await client.call('POST', 'auth/deleteAccount', { body: { stepUpToken }, headers: auth });
    expect([deleted.status, deleted.body]).toEqual([200, { status: 'deleted' }]);
    expect(await countOf(t, 'SELECT COUNT(*) AS n FROM users WHERE id = ?', [userId])).toBe(0);
    const gone = await client.call('GET', 'auth/me', { headers: auth });
    expect(gone.status).toBe(401);
  });
});
