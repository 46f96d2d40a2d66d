import { isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, createTestServer } from '../harness/server';

const day = 24 * 3600;

describe('session limits', () => {
  it('a sign-in past the per-user cap signs out the least recently used session and tells the owner', async () => {
    await using t = await createTestServer({ maxSessionsPerUser: 2 });
    const first = await t.signUp();
    t.clock.advance(1);
    const second = t.client({ deviceOf: first.jar });
    authenticated(await second.api.auth.login.mutate({ email: first.email, password: first.password }));
    t.clock.advance(1);
    // The second device is used after the first: the first is now the least recently used.
    await second.api.session.refresh.mutate();
    t.clock.advance(1);
    const third = t.client({ deviceOf: first.jar });
    authenticated(await third.api.auth.login.mutate({ email: first.email, password: first.password }));

    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT revoked_reason FROM sessions WHERE user_id = ? ORDER BY created_at', [
      first.userId,
    ]);
    expect(rows.map((row) => row.revoked_reason)).toEqual(['session_limit', null, null]);
    // The evicted session's tokens stop working at once; the others keep working.
    await expect(first.api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    await expect(first.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
    expect(authenticated(await second.api.session.refresh.mutate()).user.id).toBe(first.userId);
    expect(await third.api.session.list.query()).toHaveLength(2);
    // The owner is told, through the outbox.
    const notice = await t.mail.waitFor(
      (message) => message.to.includes(first.email) && message.tags.template === 'security_alert' && /oldest/i.test(message.subject),
    );
    expect(notice.text).toMatch(/signed out/i);
  });

  it('a session idle past the idle limit can no longer be refreshed', async () => {
    await using t = await createTestServer({ lifetimes: { sessionIdleInSeconds: 2 * day } });
    const user = await t.signUp();
    t.clock.advance(2 * day - 60);
    authenticated(await user.api.session.refresh.mutate());
    t.clock.advance(2 * day + 1);
    await expect(user.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
    expect(user.jar.get('iam_rt')).toBeUndefined();
    expect(await t.sql.query<RowDataPacket[]>('SELECT 1 FROM sessions WHERE user_id = ?', [user.userId]).then(([r]) => r.length)).toBe(1);
  });

  it('a session in steady use still ends at its absolute lifetime', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    // Every two days (inside the idle limit and the idle challenge) up to the 30-day lifetime.
    for (let elapsed = 2 * day; elapsed < 30 * day; elapsed += 2 * day) {
      t.clock.advance(2 * day);
      authenticated(await user.api.session.refresh.mutate());
    }
    t.clock.advance(2 * day);
    await expect(user.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error, 'REFRESH_TOKEN_INVALID'));
  });
});
