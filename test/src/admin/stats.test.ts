import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../harness/server';

async function signUpAdmin(t: TestServer) {
  const admin = await t.signUp();
  await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
  return admin;
}

describe('admin.audit.stats', () => {
  it('counts sign-ins, failures and challenges with their reasons per bucket, zero-filled, over a bounded range', async () => {
    await using t = await createTestServer();
    const admin = await signUpAdmin(t);
    const user = await t.signUp();
    // A wrong password, then a sign-in from a new device: the checks ask for the mailed code.
    await user.api.auth.login.mutate({ email: user.email, password: 'not the password at all' }).catch(() => undefined);
    await t.signInOnNewDevice(user);
    const now = t.clock.now();
    const from = new Date(now.getTime() - 3 * 86_400_000);
    const to = new Date(now.getTime() + 3_600_000);
    const stats = await admin.api.admin.audit.stats.query({ from, to, bucket: 'hour' });
    expect(stats.bucket).toBe('hour');
    expect(stats.at.length).toBeGreaterThanOrEqual(73);
    expect(stats.at[0]?.getTime() ?? 0).toBeLessThanOrEqual(from.getTime());
    for (const counts of Object.values(stats.series)) expect(counts).toHaveLength(stats.at.length);
    expect(stats.totals.signIns).toBeGreaterThanOrEqual(1);
    expect(stats.totals.failures).toBeGreaterThanOrEqual(1);
    expect(stats.totals.challenges).toBeGreaterThanOrEqual(1);
    expect(stats.totals.reuseDetections).toBe(0);
    // Everything happened in the last bucket or the one before it.
    const recent = stats.series.signIns.slice(-2).reduce((a, b) => a + b, 0);
    expect(recent).toBe(stats.totals.signIns);
    expect(stats.challengeReasons.length).toBeGreaterThan(0);
    expect(stats.challengeReasons[0]?.counts).toHaveLength(stats.at.length);

    const daily = await admin.api.admin.audit.stats.query({ from, to });
    expect(daily.bucket).toBe('day');
    expect(daily.totals).toEqual(stats.totals);

    // Longer than 90 days, or backwards: refused.
    expect(await admin.api.admin.audit.stats.query({ from: new Date(now.getTime() - 91 * 86_400_000), to: now }).catch(iamCodeOf)).toBe(
      'INVALID_INPUT',
    );
    expect(await admin.api.admin.audit.stats.query({ from: now, to: from }).catch(iamCodeOf)).toBe('INVALID_INPUT');
    expect(await user.api.admin.audit.stats.query({ from, to }).catch(iamCodeOf)).toBe('FORBIDDEN');
  });
});
