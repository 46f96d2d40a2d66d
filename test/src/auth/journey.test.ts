import { isIamError } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { codeFrom, createTestServer, linkTokenFrom, uniqueEmail } from '../harness/server';

describe('the sign-in journey', () => {
  it('signs up, verifies by emailed code, reads itself, refreshes, detects reuse and logs out', async () => {
    await using t = await createTestServer();
    const { api, jar } = t.client();
    const email = uniqueEmail('journey');
    const password = 'a long and unremarkable passphrase';

    const signup = await api.auth.signup.mutate({ email, password, name: 'Ada' });
    expect(signup.status).toBe('verification_required');
    const mail = await t.lastMailTo(email);
    expect(mail.subject).toMatch(/code/i);
    const code = codeFrom(mail);

    const verified = await api.auth.verifyEmail.mutate({ challengeId: signup.challengeId, code });
    expect(verified.status).toBe('authenticated');
    expect(verified.user).toMatchObject({ email, name: 'Ada', emailVerified: true, roles: ['user'], mfa: { totp: false } });
    expect(verified.accessTokenExpiresAt).toBeInstanceOf(Date);
    expect(jar.get('iam_rt')).toBeTruthy();
    expect(jar.get('iam_cid')).toBeTruthy();

    const me = await api.auth.me.query();
    expect(me.id).toBe(verified.user.id);
    expect(me.createdAt).toBeInstanceOf(Date);

    // Refresh rotates the cookie.
    const firstRefreshToken = jar.get('iam_rt');
    const refreshed = await api.session.refresh.mutate();
    expect(refreshed.status).toBe('authenticated');
    const secondRefreshToken = jar.get('iam_rt');
    expect(secondRefreshToken).toBeTruthy();
    expect(secondRefreshToken).not.toBe(firstRefreshToken);

    // The same (rotated) token replayed after the grace window is theft: the session dies.
    t.clock.advance(60);
    const thief = t.client();
    thief.jar.store(new Response(null, { headers: { 'set-cookie': `iam_rt=${firstRefreshToken}` } }));
    await expect(thief.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_REUSED'));

    const [session] = await t.sql.query<import('mysql2').RowDataPacket[]>(
      'SELECT revoked_at, revoked_reason FROM sessions WHERE user_id = ?',
      [verified.user.id],
    );
    expect(session).toHaveLength(1);
    expect(session[0]?.revoked_reason).toBe('refresh_reuse');
    expect(session[0]?.revoked_at).not.toBeNull();
    const [audits] = await t.sql.query<import('mysql2').RowDataPacket[]>(
      "SELECT type FROM audit_events WHERE user_id = ? AND type = 'session.refresh_reused'",
      [verified.user.id],
    );
    expect(audits).toHaveLength(1);

    // The legitimate holder's token and access token die with the session.
    await expect(api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
    expect(jar.get('iam_rt')).toBeUndefined();
    expect(jar.get('iam_cid')).toBeTruthy();
  });

  it('logout rejects the old access token and the old refresh cookie', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const refreshToken = user.jar.get('iam_rt');
    const oldAccessToken = user.accessToken;

    await expect(user.api.auth.logout.mutate()).resolves.toEqual({ status: 'signed_out' });
    expect(user.jar.get('iam_rt')).toBeUndefined();
    expect(user.jar.get('iam_iat')).toBeUndefined();
    expect(user.jar.get('iam_cid')).toBeTruthy();

    const stale = t.client({ headers: { authorization: `Bearer ${oldAccessToken}` } });
    await expect(stale.api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    stale.jar.store(new Response(null, { headers: { 'set-cookie': `iam_rt=${refreshToken}` } }));
    await expect(stale.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
  });

  it('verifies by the emailed link once', async () => {
    await using t = await createTestServer();
    const { api } = t.client();
    const email = uniqueEmail('link');
    await api.auth.signup.mutate({ email, password: 'another long passphrase' });
    const token = linkTokenFrom(await t.lastMailTo(email));
    const result = await api.auth.verifyEmail.mutate({ token });
    expect(result.user.emailVerified).toBe(true);
    await expect(t.client().api.auth.verifyEmail.mutate({ token })).rejects.toSatisfy((error) => isIamError(error, 'LINK_INVALID'));
  });

  it('the client refreshes an expired access token once and retries', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    t.clock.advance(16 * 60);
    const me = await user.api.auth.me.query();
    expect(me.email).toBe(user.email);
    const [rows] = await t.sql.query<import('mysql2').RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE s.user_id = ?',
      [user.userId],
    );
    expect(Number(rows[0]?.n)).toBe(2);
  });

  it('an unknown email and a wrong password fail alike', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { api } = t.client({ deviceOf: user.jar });
    const unknown = await api.auth.login.mutate({ email: uniqueEmail('nobody'), password: user.password }).catch((error: unknown) => error);
    const wrong = await api.auth.login.mutate({ email: user.email, password: 'not the password at all' }).catch((error: unknown) => error);
    for (const error of [unknown, wrong]) {
      expect(isIamError(error, 'INVALID_CREDENTIALS')).toBe(true);
      if (isIamError(error)) expect(error.data.httpStatus).toBe(401);
    }
    expect((unknown as Error).message).toBe((wrong as Error).message);
    const ok = await api.auth.login.mutate({ email: user.email.toUpperCase(), password: user.password });
    expect(ok.status).toBe('authenticated');
  });
});
