import { isIamError } from '@iam/client';
import { decodeJwt } from 'jose';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { bearer, errorOf, get } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';

const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const safariOnIphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const safariOnIpad =
  'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Signs in an existing account from a new device (its own cookie jar), optionally with a user agent. */
async function signInFrom(t: TestServer, user: { email: string; password: string }, userAgent?: string) {
  const device = await t.signInOnNewDevice(user, userAgent ? { headers: { 'user-agent': userAgent } } : {});
  return { ...device, sessionId: String(decodeJwt(device.accessToken).sid) };
}

async function sessionRow(t: TestServer, sessionId: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT user_id, revoked_at, revoked_reason FROM sessions WHERE id = ?', [sessionId]);
  const [row] = rows;
  if (!row) throw new Error(`no session ${sessionId}`);
  return row as { user_id: string; revoked_at: Date | null; revoked_reason: string | null };
}

describe('listing and revoking sessions', () => {
  it('lists the current session as current, with its desktop device, browser, OS and IP', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const desktop = await signInFrom(t, user, chromeOnLinux);

    const sessions = await desktop.api.session.list.query();
    expect(sessions).toHaveLength(2);
    const current = sessions.filter((session) => session.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({
      id: desktop.sessionId,
      ip: '127.0.0.1',
      device: { browser: 'Chrome', os: 'Linux', type: 'desktop' },
      trusted: expect.any(Boolean),
    });
    expect(current[0]?.createdAt).toBeInstanceOf(Date);
    expect(current[0]?.lastUsedAt).toBeInstanceOf(Date);
    expect(current[0]).toHaveProperty('location');
    // The other session is the sign-up's, not current.
    expect(sessions.find((session) => !session.current)?.id).toBe(decodeJwt(user.accessToken).sid);
  });

  it.each([
    { label: 'an iPhone', userAgent: safariOnIphone, type: 'mobile' },
    { label: 'an iPad', userAgent: safariOnIpad, type: 'tablet' },
  ])('reports a session from $label as $type', async ({ userAgent, type }) => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const device = await signInFrom(t, user, userAgent);
    const sessions = await device.api.session.list.query();
    expect(sessions.find((session) => session.current)?.device.type).toBe(type);
  });

  it('revoking another of my sessions rejects its access token with SESSION_REVOKED and its refresh token', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mySessionId = String(decodeJwt(user.accessToken).sid);
    const other = await signInFrom(t, user);

    await expect(user.api.session.revoke.mutate({ sessionId: other.sessionId })).resolves.toEqual({ status: 'revoked' });

    const me = await get(t.trpcUrl, 'auth.me', undefined, bearer(other.accessToken));
    expect(me.status).toBe(401);
    expect(errorOf(me).iamCode).toBe('SESSION_REVOKED');
    await expect(other.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
    expect(other.jar.get('iam_rt')).toBeUndefined();

    expect(await sessionRow(t, other.sessionId)).toMatchObject({ revoked_at: expect.any(Date), revoked_reason: 'user' });
    expect(await sessionRow(t, mySessionId)).toMatchObject({ revoked_at: null });
    // The revoking session carries on, and no longer lists the revoked one.
    const remaining = await user.api.session.list.query();
    expect(remaining.map((session) => session.id)).toEqual([mySessionId]);
    expect(user.jar.get('iam_rt')).toBeTruthy();
    await expect(user.api.session.refresh.mutate()).resolves.toMatchObject({ status: 'authenticated' });
  });

  it("revoking someone else's session is NOT_FOUND and leaves it untouched", async () => {
    await using t = await createTestServer();
    const mallory = await t.signUp();
    const victim = await t.signUp();
    const victimSessionId = String(decodeJwt(victim.accessToken).sid);

    await expect(mallory.api.session.revoke.mutate({ sessionId: victimSessionId })).rejects.toSatisfy((error) =>
      isIamError(error, 'NOT_FOUND'),
    );
    const unknown = await mallory.api.session.revoke
      .mutate({ sessionId: 'ses_aaaaaaaaaaaaaaaaaaaaaaaaaa' })
      .catch((error: unknown) => error);
    expect(isIamError(unknown, 'NOT_FOUND')).toBe(true);
    // Someone else's session and a session that does not exist are indistinguishable.
    expect((unknown as Error).message).toBe(
      ((await mallory.api.session.revoke.mutate({ sessionId: victimSessionId }).catch((error: unknown) => error)) as Error).message,
    );

    expect(await sessionRow(t, victimSessionId)).toMatchObject({ user_id: victim.userId, revoked_at: null, revoked_reason: null });
    await expect(victim.api.auth.me.query()).resolves.toMatchObject({ id: victim.userId });
    await expect(victim.api.session.refresh.mutate()).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('revokeAll without includeCurrent ends every other session, keeps the current one and returns the count', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mySessionId = String(decodeJwt(user.accessToken).sid);
    const others = [await signInFrom(t, user), await signInFrom(t, user)];
    const bystander = await t.signUp();

    await expect(user.api.session.revokeAll.mutate()).resolves.toEqual({ status: 'revoked', count: 2 });

    for (const other of others) {
      expect(await sessionRow(t, other.sessionId)).toMatchObject({ revoked_at: expect.any(Date), revoked_reason: 'user_all' });
      const me = await get(t.trpcUrl, 'auth.me', undefined, bearer(other.accessToken));
      expect(errorOf(me).iamCode).toBe('SESSION_REVOKED');
    }
    expect(await sessionRow(t, mySessionId)).toMatchObject({ revoked_at: null });
    expect(await sessionRow(t, String(decodeJwt(bystander.accessToken).sid))).toMatchObject({ revoked_at: null });
    await expect(user.api.auth.me.query()).resolves.toMatchObject({ id: user.userId });
    await expect(user.api.session.refresh.mutate()).resolves.toMatchObject({ status: 'authenticated' });
    expect((await user.api.session.list.query()).map((session) => session.id)).toEqual([mySessionId]);

    // Nothing left to revoke: the count says so.
    await expect(user.api.session.revokeAll.mutate({ includeCurrent: false })).resolves.toEqual({ status: 'revoked', count: 0 });
  });

  it('revokeAll with includeCurrent ends the current session too and clears its refresh cookie but not the canary', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mySessionId = String(decodeJwt(user.accessToken).sid);
    const other = await signInFrom(t, user);

    await expect(user.api.session.revokeAll.mutate({ includeCurrent: true })).resolves.toEqual({ status: 'revoked', count: 2 });
    expect(user.jar.get('iam_rt')).toBeUndefined();
    expect(user.jar.get('iam_cid')).toBeTruthy();
    for (const sessionId of [mySessionId, other.sessionId]) {
      expect(await sessionRow(t, sessionId)).toMatchObject({ revoked_at: expect.any(Date) });
    }
    const me = await get(t.trpcUrl, 'auth.me', undefined, bearer(user.accessToken));
    expect(errorOf(me).iamCode).toBe('SESSION_REVOKED');
  });
});
