import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';

describe('auth.activity: the user’s own security events', () => {
  it('lists only the caller’s events, newest first, a keyset page at a time, and audits nothing itself', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const other = await t.signUp();
    await user.api.auth.updateProfile.mutate({ name: 'Ada' });
    await expect(user.api.auth.login.mutate({ email: user.email, password: 'not the password at all' })).rejects.toBeDefined();

    const [before] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ?', [user.userId]);
    const all = await user.api.auth.activity.query();
    const types = all.items.map((event) => event.type);
    expect(types[0]).toBe('login.failed');
    expect(types).toContain('user.profile_updated');
    expect(types).toContain('user.signed_up');
    expect(all.items.every((event) => event.byYou)).toBe(true);
    const times = all.items.map((event) => event.at.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.nextCursor).toBeNull();
    // Nobody else's events, and no actor or user ids on the wire.
    const otherIds = (await other.api.auth.activity.query()).items.map((event) => event.id);
    expect(all.items.some((event) => otherIds.includes(event.id))).toBe(false);
    expect(Object.keys(all.items[0] ?? {})).not.toContain('actorId');

    // Pages of two walk the same list.
    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await user.api.auth.activity.query({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      walked.push(...page.items.map((event) => event.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(walked).toEqual(all.items.map((event) => event.id));

    // Reading is not itself an event.
    const [after] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ?', [user.userId]);
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n));
  });

  it('refuses bad input and callers without a session', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await expect(user.api.auth.activity.query({ limit: 1000 })).rejects.toSatisfy(
      (error: { data?: { iamCode?: string } }) => error.data?.iamCode === 'INVALID_INPUT',
    );
    const { api } = t.client();
    await expect(api.auth.activity.query()).rejects.toSatisfy(
      (error: { data?: { iamCode?: string } }) => error.data?.iamCode === 'UNAUTHENTICATED',
    );
  });
});
