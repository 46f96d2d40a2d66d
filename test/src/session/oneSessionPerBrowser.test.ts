import { createCookieJar, createIamClient, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, createTestServer, type TestServer, uniqueEmail } from '../harness/server';

// A sign-in in a browser that still holds the refresh cookie of a live session of the same
// user on the same device (iam_cid) replaces that session instead of adding a second one.

async function sessionsOf(t: TestServer, userId: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    'SELECT id, device_id, revoked_at, revoked_reason FROM sessions WHERE user_id = ? ORDER BY created_at',
    [userId],
  );
  return rows as Array<{ id: string; device_id: string; revoked_at: Date | null; revoked_reason: string | null }>;
}

function sessionIdOf(accessToken: string): string {
  return (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;
}

/** A browser holding only the given cookies. */
function browserWith(t: TestServer, cookies: Record<string, string>) {
  const jar = createCookieJar();
  const header = Object.entries(cookies).map(([name, value]) => ['set-cookie', `${name}=${value}; Path=/`] as [string, string]);
  jar.store({ headers: new Headers(header) } as Response);
  return createIamClient({ url: t.trpcUrl, cookieJar: jar });
}

describe('one session per browser', () => {
  it('sign-up, verification (signed in) and a password sign-in in one browser leave one live session; another browser adds its own', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('one-session');
    const password = 'correct horse one session';
    const { api, jar } = t.client();
    const signup = await api.auth.signup.mutate({ email, password });
    const verified = await api.auth.verifyEmail.mutate({ challengeId: signup.challengeId, code: codeFrom(await t.lastMailTo(email)) });
    const userId = verified.user.id;
    const firstSessionId = sessionIdOf(verified.accessToken);
    const firstRefreshToken = jar.get('iam_rt');
    const canary = jar.get('iam_cid');
    expect(firstRefreshToken).toBeTruthy();
    expect(canary).toBeTruthy();

    t.clock.advance(1);
    const login = authenticated(await api.auth.login.mutate({ email, password }));
    const secondSessionId = sessionIdOf(login.accessToken);
    expect(secondSessionId).not.toBe(firstSessionId);
    expect(jar.get('iam_rt')).not.toBe(firstRefreshToken);

    const rows = await sessionsOf(t, userId);
    expect(rows.filter((row) => row.revoked_at === null).map((row) => row.id)).toEqual([secondSessionId]);
    expect(rows.find((row) => row.id === firstSessionId)).toMatchObject({ revoked_reason: 'replaced' });
    expect(new Set(rows.map((row) => row.device_id)).size).toBe(1);
    // The replacement is on the record, as any revocation.
    const [audit] = await t.sql.query<RowDataPacket[]>("SELECT data FROM audit_events WHERE type = 'session.revoked' AND session_id = ?", [
      firstSessionId,
    ]);
    expect(audit.map((row) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data))).toEqual([{ reason: 'replaced' }]);

    // The earlier session's refresh token is refused (even from its own browser); the new one works.
    const stale = browserWith(t, { iam_cid: canary as string, iam_rt: firstRefreshToken as string });
    await expect(stale.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
    expect(authenticated(await api.session.refresh.mutate()).user.id).toBe(userId);
    expect(await api.session.list.query()).toHaveLength(1);

    // Another browser (a jar of its own) signs in beside it: two sessions, on two devices.
    const other = await t.signInOnNewDevice({ email, password });
    const live = (await sessionsOf(t, userId)).filter((row) => row.revoked_at === null);
    expect(live.map((row) => row.id).sort()).toEqual([secondSessionId, other.sessionId].sort());
    expect(new Set(live.map((row) => row.device_id)).size).toBe(2);
    expect(authenticated(await api.session.refresh.mutate()).user.id).toBe(userId);
  });

  it("a refresh cookie of another account, or of this account's other browser, replaces nothing", async () => {
    await using t = await createTestServer({ rateLimits: { signupPerIp: { points: 100 } } });
    const alice = await t.signUp();
    const bob = await t.signUp();
    const aliceRefreshToken = alice.jar.get('iam_rt') as string;
    const aliceSession = await sessionsOf(t, alice.userId);
    // Bob signs in to his account in Alice's browser, which still carries her refresh cookie.
    t.clock.advance(1);
    await t.signInOn(t.client({ cookieJar: alice.jar }), bob);
    // The same account in another browser presenting her refresh cookie: not the same device.
    await t.signInOn({ api: browserWith(t, { iam_rt: aliceRefreshToken }) }, alice);
    const after = await sessionsOf(t, alice.userId);
    expect(after).toHaveLength(2);
    expect(after.filter((row) => row.revoked_at === null)).toHaveLength(2);
    expect(after[0]?.id).toBe(aliceSession[0]?.id);
  });
});
