import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../harness/server';
import { sampleValue, scrape } from './prometheusText';

// The metrics the monitoring assets read, as a real service exports them: the anomaly checks by
// check and outcome, the signing key's age by the service clock, the outbox's lag and backlog.

/** Past the outbox backlog's cache (5 s by the service clock), so the next scrape reads the table again. */
const pastBacklogCacheInSeconds = 6;

async function until(condition: () => Promise<boolean>, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function pendingMail(t: TestServer) {
  const [rows] = await t.sql.query<RowDataPacket[]>("SELECT id, attempts FROM outbox_messages WHERE state = 'pending' AND kind = 'mail'");
  return rows;
}

describe('monitoring metrics', () => {
  it('count every sign-in check and every refresh check by outcome', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const before = await scrape(t.url);
    const signInCheck = (samples: typeof before, check: string, outcome: string) =>
      sampleValue(samples, 'iam_signin_checks_total', { check, outcome }) ?? 0;
    const outcomes = ['pass', 'challenge', 'logged'];

    // A browser the account never used: the new-device check asks for proof. Every sign-in check
    // runs once, with one outcome (a script's user agent is a finding of the bot check).
    const device = await t.signInOnNewDevice(user);
    const after = await scrape(t.url);
    expect(signInCheck(after, 'newDevice', 'challenge') - signInCheck(before, 'newDevice', 'challenge')).toBe(1);
    expect(signInCheck(after, 'newCountry', 'pass') - signInCheck(before, 'newCountry', 'pass')).toBe(1);
    for (const check of ['newDevice', 'newCountry', 'newNetwork', 'hostingNetwork', 'impossibleTravel', 'bot']) {
      const runs = outcomes.reduce((sum, outcome) => sum + signInCheck(after, check, outcome) - signInCheck(before, check, outcome), 0);
      expect(runs, check).toBe(1);
    }
    const seen = new Set(after.filter((sample) => sample.name === 'iam_signin_checks_total').map((sample) => sample.labels.outcome));
    expect([...seen].every((outcome) => outcomes.includes(outcome ?? ''))).toBe(true);

    // A refresh on the device as it proved itself: every refresh check runs and passes.
    await device.api.session.refresh.mutate();
    const refreshed = await scrape(t.url);
    for (const check of ['token', 'canary', 'idle', 'sessionCount', 'velocity', 'bot', 'hostingNetwork', 'fingerprint']) {
      expect(sampleValue(refreshed, 'iam_refresh_checks_total', { check, outcome: 'pass' }) ?? 0, check).toBeGreaterThanOrEqual(1);
    }
  });

  it('signing-key age is the signing key’s age by the service clock, and grows with it', async () => {
    await using t = await createTestServer();
    const first = sampleValue(await scrape(t.url), 'iam_signing_key_age_seconds');
    expect(first).toBeGreaterThanOrEqual(0);
    t.clock.advance(3 * 24 * 3600);
    const later = await scrape(t.url);
    expect(sampleValue(later, 'iam_signing_key_age_seconds')).toBeGreaterThanOrEqual((first ?? 0) + 3 * 24 * 3600);
    expect(sampleValue(later, 'iam_signing_key_rotation_interval_seconds')).toBe(30 * 24 * 3600);
  });

  it('outbox lag is 0 when nothing waits, the stuck message’s age while the provider fails, and 0 again once it is delivered', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const stolen = user.jar.get('iam_rt');
    await user.api.session.refresh.mutate();
    t.clock.advance(pastBacklogCacheInSeconds);
    const idle = await scrape(t.url);
    expect(sampleValue(idle, 'iam_outbox_lag_seconds', { kind: 'mail' })).toBe(0);
    expect(sampleValue(idle, 'iam_outbox_lag_seconds', { kind: 'webhook' })).toBe(0);
    expect(sampleValue(idle, 'iam_outbox_pending_messages', { kind: 'mail' })).toBe(0);

    // The provider fails; a replayed refresh token queues the owner's alert, which cannot go out.
    t.mail.failNext(1_000_000);
    t.clock.advance(60);
    const thief = t.client();
    thief.jar.store(new Response(null, { headers: { 'set-cookie': `iam_rt=${stolen}` } }));
    await expect(thief.api.session.refresh.mutate()).rejects.toMatchObject({ data: { iamCode: 'REFRESH_TOKEN_REUSED' } });
    await until(async () => Number((await pendingMail(t))[0]?.attempts ?? 0) >= 1);
    t.clock.advance(120);
    const stuck = await scrape(t.url);
    expect(sampleValue(stuck, 'iam_outbox_lag_seconds', { kind: 'mail' })).toBeGreaterThanOrEqual(120);
    expect(sampleValue(stuck, 'iam_outbox_pending_messages', { kind: 'mail' })).toBe(1);
    expect(sampleValue(stuck, 'iam_outbox_lag_seconds', { kind: 'webhook' })).toBe(0);
    expect(sampleValue(stuck, 'iam_outbox_failed_attempts_total', { kind: 'mail' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(stuck, 'iam_refreshes_total', { outcome: 'reused' })).toBe(1);

    // The provider recovers; the retry delivers it, and the lag is gone.
    t.mail.failNext(0);
    t.clock.advance(3600);
    await until(async () => (await pendingMail(t)).length === 0);
    t.clock.advance(pastBacklogCacheInSeconds);
    const drained = await scrape(t.url);
    expect(sampleValue(drained, 'iam_outbox_lag_seconds', { kind: 'mail' })).toBe(0);
    expect(sampleValue(drained, 'iam_outbox_pending_messages', { kind: 'mail' })).toBe(0);
  });

  it('the outbox backlog query reads the pending rows through the state index, never the whole table', async () => {
    await using t = await createTestServer();
    const [plan] = await t.sql.query<RowDataPacket[]>(
      "EXPLAIN SELECT kind, COUNT(*), MIN(created_at) FROM outbox_messages WHERE state = 'pending' GROUP BY kind",
    );
    expect(plan[0]).toMatchObject({ key: 'outbox_messages_state_available_idx' });
    expect(plan[0]?.type).not.toBe('ALL');
  });
});
