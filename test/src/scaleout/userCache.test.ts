import { setTimeout as pause } from 'node:timers/promises';
import { type IamClient, iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { startInstance } from '../harness/instance';
import { createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { startRedisPeer } from '../peers/redis';

// auth.me answers from each instance's cache of user rows. A change reaches the instance that
// made it at once, and every other instance within the poll of `users.changed_at` (1 s), a
// column the database stamps itself, or at once through Redis.

/** auth.me's answer (or its refusal's code) once `done` holds, asked every 50 ms for at most `withinMs`. */
async function meUntil(api: IamClient, done: (answer: unknown) => boolean, withinMs = 1_500): Promise<unknown> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await api.auth.me.query().catch(iamCodeOf);
    if (done(answer) || Date.now() > deadline) return answer;
    await pause(50);
  }
}

const named = (name: string) => (answer: unknown) => (answer as { name?: unknown }).name === name;

async function changeStampOf(t: TestServer, userId: string): Promise<{ changed_at: Date; updated_at: Date }> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT changed_at, updated_at FROM users WHERE id = ?', [userId]);
  return rows[0] as { changed_at: Date; updated_at: Date };
}

const hour = 60 * 60_000;

describe('the user cache behind auth.me, on several instances', () => {
  it('shows a name change, a role grant and an email change at once where they were made and within the poll elsewhere', async () => {
    await using t = await createTestServer();
    await using other = await startInstance(t);
    const user = await t.signUp({ name: 'Before' });
    const there = other.clientWith(user.accessToken);
    // Both instances now hold the row.
    expect(await user.api.auth.me.query()).toMatchObject({ id: user.userId, name: 'Before' });
    expect(await there.auth.me.query()).toMatchObject({ id: user.userId, name: 'Before' });

    await user.api.auth.updateProfile.mutate({ name: 'After' });
    expect((await user.api.auth.me.query()).name).toBe('After');
    expect(await meUntil(there, named('After'))).toMatchObject({ name: 'After' });

    // A role granted by an admin on this instance.
    const admin = await t.signUp();
    await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
    await admin.api.admin.users.setRoles.mutate({
      userId: user.userId,
      roles: ['support', 'user'],
      stepUpToken: await stepUpByMail(t, admin, 'admin'),
    });
    expect((await user.api.auth.me.query()).roles).toEqual(['support', 'user']);
    const granted = (answer: unknown) => JSON.stringify((answer as { roles?: unknown }).roles) === '["support","user"]';
    expect(await meUntil(there, granted)).toMatchObject({ roles: ['support', 'user'] });

    // An email change ends every session; a new sign-in's token read on the other instance shows the new address.
    const newEmail = uniqueEmail('moved');
    await user.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken: await stepUpByMail(t, user, 'email_change') });
    const link = await t.mail.waitFor((message) => message.to.includes(newEmail) && message.tags.template === 'email_change_new');
    await t.client().api.auth.confirmEmailChange.mutate({ token: linkTokenFrom(link) });
    const again = await t.signInOn(user, { email: newEmail, password: user.password });
    expect((await user.api.auth.me.query()).email).toBe(newEmail);
    const moved = (answer: unknown) => (answer as { email?: unknown }).email === newEmail;
    expect(await meUntil(other.clientWith(again.accessToken), moved)).toMatchObject({ id: user.userId, email: newEmail });
  }, 60_000);

  it('forgets a row changed in SQL, behind every flow, through the stamp the database keeps', async () => {
    // The second instance never polls within the test: it keeps answering from memory.
    await using t = await createTestServer();
    await using frozen = await startInstance(t, { userCachePollIntervalInMs: hour });
    const user = await t.signUp({ name: 'Cached' });
    const there = frozen.clientWith(user.accessToken);
    expect((await user.api.auth.me.query()).name).toBe('Cached');
    expect((await there.auth.me.query()).name).toBe('Cached');
    // From memory: twenty calls take no connection of the request path's pool (a signing-key
    // reload, once a minute, may take one).
    let acquired = 0;
    const countAcquired = () => acquired++;
    const pool = frozen.iam.services.pools.pool.pool;
    pool.on('acquire', countAcquired);
    for (let i = 0; i < 20; i++) expect((await there.auth.me.query()).name).toBe('Cached');
    pool.off('acquire', countAcquired);
    expect(acquired).toBeLessThanOrEqual(1);
    const before = await changeStampOf(t, user.userId);

    // No flow runs, nothing calls invalidate, and `updated_at` is left alone: only the database's stamp moves.
    await pause(5);
    await t.sql.query("UPDATE users SET name = 'Changed in SQL' WHERE id = ?", [user.userId]);
    const after = await changeStampOf(t, user.userId);
    expect(after.updated_at).toEqual(before.updated_at);
    expect(after.changed_at.getTime()).toBeGreaterThan(before.changed_at.getTime());

    expect(await meUntil(user.api, named('Changed in SQL'))).toMatchObject({ name: 'Changed in SQL' });
    // The instance whose poll has not run still answers from its cache: the read above was the feed's doing.
    expect((await there.auth.me.query()).name).toBe('Cached');

    // A user disabled in SQL is refused where the poll ran, as at sign-in.
    await t.sql.query('UPDATE users SET disabled_at = NOW(3) WHERE id = ?', [user.userId]);
    expect(await meUntil(user.api, (answer) => answer === 'USER_DISABLED')).toBe('USER_DISABLED');
  }, 30_000);

  it('forgets every row when more rows changed than one poll reads (a bulk UPDATE, a backfill)', async () => {
    await using t = await createTestServer();
    const user = await t.signUp({ name: 'Cached' });
    // Changes the poll cannot see by id: their stamp set back by hand, far outside any window.
    const stampedLongAgo = "changed_at = '2020-01-01 00:00:00'";
    await t.sql.query(`UPDATE users SET ${stampedLongAgo} WHERE id = ?`, [user.userId]);
    await pause(1_100);
    expect((await user.api.auth.me.query()).name).toBe('Cached');
    await t.sql.query(`UPDATE users SET name = 'Renamed', ${stampedLongAgo} WHERE id = ?`, [user.userId]);
    await pause(1_500);
    expect((await user.api.auth.me.query()).name).toBe('Cached');
    // Ten thousand rows changed at once (here: made, which stamps them too).
    await t.sql.query(
      `INSERT INTO users (id, email, email_normalized, roles, created_at, updated_at)
       SELECT CONCAT('usr_bulk', seq), CONCAT('bulk', seq, '@example.com'), CONCAT('bulk', seq, '@example.com'), '["user"]', NOW(3), NOW(3)
       FROM seq_1_to_10000`,
    );
    expect(await meUntil(user.api, named('Renamed'))).toMatchObject({ name: 'Renamed' });
  }, 30_000);

  it('a disable or a deletion by an admin is refused on every instance', async () => {
    await using t = await createTestServer();
    await using other = await startInstance(t);
    const admin = await t.signUp();
    await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
    const disabled = await t.signUp();
    const deleted = await t.signUp();
    for (const user of [disabled, deleted]) {
      await expect(user.api.auth.me.query()).resolves.toMatchObject({ id: user.userId });
      await expect(other.clientWith(user.accessToken).auth.me.query()).resolves.toMatchObject({ id: user.userId });
    }

    await admin.api.admin.users.disable.mutate({ userId: disabled.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') });
    await admin.api.admin.users.delete.mutate({ userId: deleted.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') });
    const refused = (answer: unknown) => typeof answer === 'string';
    for (const user of [disabled, deleted]) {
      expect(await user.api.auth.me.query().catch(iamCodeOf)).toMatch(/^(SESSION_REVOKED|USER_DISABLED|UNAUTHENTICATED)$/);
      expect(await meUntil(other.clientWith(user.accessToken), refused)).toMatch(/^(SESSION_REVOKED|USER_DISABLED|UNAUTHENTICATED)$/);
    }
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT id FROM users WHERE id = ?', [deleted.userId]);
    expect(rows).toHaveLength(0);
  }, 60_000);

  it('with Redis, tells every instance at once, before any poll', async () => {
    await using redis = await startRedisPeer();
    await using t = await createTestServer({ redisUrl: redis.url });
    await using first = await startInstance(t, { redisUrl: redis.url, userCachePollIntervalInMs: hour });
    await using second = await startInstance(t, { redisUrl: redis.url, userCachePollIntervalInMs: hour });
    const user = await t.signUp({ name: 'Before' });
    const viaFirst = first.clientWith(user.accessToken);
    const viaSecond = second.clientWith(user.accessToken);
    expect((await viaFirst.auth.me.query()).name).toBe('Before');
    expect((await viaSecond.auth.me.query()).name).toBe('Before');

    await viaFirst.auth.updateProfile.mutate({ name: 'After' });
    expect((await viaFirst.auth.me.query()).name).toBe('After');
    // Neither instance polls within the test: only the published invalidation can make this change.
    expect(await meUntil(viaSecond, named('After'))).toMatchObject({ name: 'After' });
  }, 30_000);
});
