import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, createTestServer, type TestServer } from '../harness/server';

const day = 24 * 3600;

async function countOf(t: TestServer, table: string, userId: string): Promise<number> {
  const where =
    table === 'refresh_tokens'
      ? 'session_id IN (SELECT id FROM sessions WHERE user_id = ?) OR session_id NOT IN (SELECT id FROM sessions)'
      : 'user_id = ?';
  const [rows] = await t.sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, [userId]);
  return Number(rows[0]?.n);
}

describe('retention', () => {
  it('deletes what is dead, in the order that keeps the rest whole, and leaves live data alone', async () => {
    await using t = await createTestServer();
    const old = await t.signUp();
    await old.api.session.refresh.mutate();
    await old.api.auth.requestPasswordReset.mutate({ email: old.email });
    expect(await countOf(t, 'sessions', old.userId)).toBe(1);
    expect(await countOf(t, 'refresh_tokens', old.userId)).toBe(2);
    expect(await countOf(t, 'challenges', old.userId)).toBeGreaterThan(0);
    expect(await countOf(t, 'links', old.userId)).toBeGreaterThan(0);
    // The reset mail went out through the outbox.
    await t.mail.waitFor((message) => message.to.includes(old.email) && message.tags.template === 'password_reset');
    expect(await countOf(t, 'outbox_messages', old.userId)).toBe(1);

    // Past the session's 30-day lifetime (and a day of grace): the session and its tokens go,
    // with the dead challenges and links; the device and the audit trail stay.
    t.clock.advance(32 * day);
    const fresh = await t.signUp();
    const first = await t.iam.runMaintenance();
    expect(first.swept).toMatchObject({ sessions: 1, refreshTokens: 2, outboxMessages: 1 });
    for (const table of ['sessions', 'refresh_tokens', 'challenges', 'links', 'outbox_messages'])
      expect(await countOf(t, table, old.userId)).toBe(0);
    expect(await countOf(t, 'devices', old.userId)).toBe(1);
    expect(await countOf(t, 'audit_events', old.userId)).toBeGreaterThan(0);
    // A live account is untouched and keeps working.
    expect(await countOf(t, 'sessions', fresh.userId)).toBe(1);
    expect(authenticated(await fresh.api.session.refresh.mutate()).user.id).toBe(fresh.userId);

    // A device unseen for 180 days with no session left is forgotten; the live user's is kept
    // while a session names it.
    t.clock.advance(150 * day);
    await t.iam.runMaintenance();
    expect(await countOf(t, 'devices', old.userId)).toBe(0);
    expect(await countOf(t, 'audit_events', old.userId)).toBeGreaterThan(0);

    // Audit events past 400 days.
    t.clock.advance(220 * day);
    await t.iam.runMaintenance();
    expect(await countOf(t, 'audit_events', old.userId)).toBe(0);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/iam_retention_swept_rows_total\{table="sessions"\} [1-9]/);
  });

  it('deletes API keys revoked or expired 30 days ago, and keeps live ones', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const live = await user.api.apiKeys.create.mutate({ name: 'live', scopes: [] });
    const revoked = await user.api.apiKeys.create.mutate({ name: 'revoked', scopes: [] });
    const expiring = await user.api.apiKeys.create.mutate({ name: 'expiring', scopes: [], expiresInDays: 1 });
    await user.api.apiKeys.revoke.mutate({ id: revoked.id });
    const ids = async () =>
      (await t.sql.query<RowDataPacket[]>('SELECT id FROM api_keys WHERE user_id = ?', [user.userId]))[0].map((row) => row.id);
    expect(await ids()).toEqual(expect.arrayContaining([live.id, revoked.id, expiring.id]));
    t.clock.advance(20 * day);
    expect((await t.iam.runMaintenance()).swept).toMatchObject({ apiKeys: 0 });
    t.clock.advance(12 * day);
    expect((await t.iam.runMaintenance()).swept).toMatchObject({ apiKeys: 2 });
    expect(await ids()).toEqual([live.id]);
  });
});
