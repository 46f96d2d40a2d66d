import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, createTestServer } from '../harness/server';

// A password sign-in reads the account, its devices and its live sessions once, before the
// hash, and its transaction only writes: these are the behaviours that rest on that read.

/** Adds `count` live sessions to the user on the sign-up's device, each used longer ago than the last. */
async function seedSessions(t: Awaited<ReturnType<typeof createTestServer>>, userId: string, count: number) {
  await t.sql.query(
    `INSERT INTO sessions (id, user_id, device_id, created_at, last_used_at, expires_at, ip, user_agent, browser, os, device_type)
     SELECT CONCAT('ses_seed', LPAD(seq, 3, '0')), s.user_id, s.device_id, s.created_at - INTERVAL seq MINUTE,
            s.last_used_at - INTERVAL seq MINUTE, s.expires_at, s.ip, s.user_agent, s.browser, s.os, s.device_type
     FROM sessions s JOIN seq_1_to_${count} WHERE s.user_id = ?`,
    [userId],
  );
}

async function sessionsOf(t: Awaited<ReturnType<typeof createTestServer>>, userId: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    'SELECT id, revoked_reason FROM sessions WHERE user_id = ? ORDER BY last_used_at DESC, created_at DESC',
    [userId],
  );
  return rows.map((row) => ({ id: String(row.id), revoked: row.revoked_reason as string | null }));
}

describe('password sign-in and the session it opens', () => {
  it('at the default cap of 50, the 51st live session signs out the least recently used one', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await seedSessions(t, user.userId, 49);
    t.clock.advance(1);
    // 50 live sessions: the next sign-in passes the cap.
    const device = t.client({ deviceOf: user.jar });
    authenticated(await device.api.auth.login.mutate({ email: user.email, password: user.password }));

    const rows = await sessionsOf(t, user.userId);
    expect(rows).toHaveLength(51);
    expect(rows.filter((row) => row.revoked === 'session_limit').map((row) => row.id)).toEqual(['ses_seed049']);
    expect(rows.filter((row) => row.revoked === null)).toHaveLength(50);
    const [audit] = await t.sql.query<RowDataPacket[]>(
      "SELECT session_id FROM audit_events WHERE type = 'session.revoked' AND user_id = ?",
      [user.userId],
    );
    expect(audit.map((row) => row.session_id)).toEqual(['ses_seed049']);
  });

  it('below the cap nothing is signed out, and a sign-in that replaces this browser’s session stays at the cap', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await seedSessions(t, user.userId, 48);
    t.clock.advance(1);
    // 49 live → 50: within the cap.
    const other = t.client({ deviceOf: user.jar });
    authenticated(await other.api.auth.login.mutate({ email: user.email, password: user.password }));
    expect((await sessionsOf(t, user.userId)).filter((row) => row.revoked !== null)).toEqual([]);
    t.clock.advance(1);
    // 50 live, and this browser presents its own session's cookie: it is replaced, none evicted.
    authenticated(await user.api.auth.login.mutate({ email: user.email, password: user.password }));
    const rows = await sessionsOf(t, user.userId);
    expect(rows.filter((row) => row.revoked !== null).map((row) => row.revoked)).toEqual(['replaced']);
    expect(rows.filter((row) => row.revoked === null)).toHaveLength(50);
  });

  it('a disable committed while the sign-in waits for the account refuses the session', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const device = t.client({ deviceOf: user.jar });
    const [before] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [user.userId]);
    // An admin's disable holds the account's row when the sign-in's transaction comes to it; the
    // sign-in read the account (not yet disabled) before the hash.
    const admin = await t.sql.getConnection();
    try {
      await admin.beginTransaction();
      await admin.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [user.userId]);
      const login = device.api.auth.login.mutate({ email: user.email, password: user.password }).then(
        () => 'signed in',
        (error: unknown) => iamCodeOf(error) ?? String(error),
      );
      // Wait until the sign-in waits on the row.
      for (let i = 0; i < 200; i++) {
        const [waiting] = await t.sql.query<RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%LOCK IN SHARE MODE%' AND INFO LIKE '%users%'",
        );
        if (Number(waiting[0]?.n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await admin.query("UPDATE users SET disabled_at = UTC_TIMESTAMP(3), disabled_reason = 'test' WHERE id = ?", [user.userId]);
      await admin.commit();
      expect(await login).toBe('USER_DISABLED');
    } finally {
      admin.release();
    }
    const [after] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [user.userId]);
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n));
    const [succeeded] = await t.sql.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type IN ('login.succeeded', 'session.created')",
      [user.userId],
    );
    // Only the sign-up's own session.created.
    expect(Number(succeeded[0]?.n)).toBe(1);
  });

  it('writes the sign-in’s audit rows together, with the session they belong to', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const device = t.client({ deviceOf: user.jar });
    authenticated(await device.api.auth.login.mutate({ email: user.email, password: user.password }));
    const [[latest]] = (await t.sql.query<RowDataPacket[]>(
      'SELECT id FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id LIMIT 1',
      [user.userId],
    )) as unknown as [RowDataPacket[]];
    const [rows] = await t.sql.query<RowDataPacket[]>(
      "SELECT type, session_id, ip, data FROM audit_events WHERE user_id = ? AND type IN ('login.succeeded', 'session.created') AND session_id = ? ORDER BY type",
      [user.userId, latest?.id],
    );
    expect(rows.map((row) => row.type)).toEqual(['login.succeeded', 'session.created']);
    expect(rows[0]?.data).toMatchObject({ method: 'password' });
    expect(rows.every((row) => row.ip !== null)).toBe(true);
  });
});
