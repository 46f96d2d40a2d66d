import { createIamServer, createLogger, type IamServer } from '@iam/server';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../harness/server';

// Security mails go through the durable outbox: written with the change, delivered by a worker
// on any instance, retried while the provider is down, sent once (Idempotency-Key = row id).

/** A signed-in user whose first refresh token was copied, then rotated (sign-up mails a code, so this runs while mail works). */
async function userWithStolenToken(t: TestServer) {
  const user = await t.signUp();
  const stolen = user.jar.get('iam_rt');
  await user.api.session.refresh.mutate();
  return { email: user.email, userId: user.userId, stolen };
}

/** The thief replays the rotated token after the grace window: the session is revoked and the owner alerted. */
async function replay(t: TestServer, stolen: string | undefined): Promise<void> {
  const thief = t.client();
  thief.jar.store(new Response(null, { headers: { 'set-cookie': `iam_rt=${stolen}` } }));
  await expect(thief.api.session.refresh.mutate()).rejects.toMatchObject({ data: { iamCode: 'REFRESH_TOKEN_REUSED' } });
}

async function outboxRows(t: TestServer, userId?: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    `SELECT id, state, attempts, last_error FROM outbox_messages ${userId ? 'WHERE user_id = ?' : ''} ORDER BY created_at`,
    userId ? [userId] : [],
  );
  return rows;
}

async function until(condition: () => Promise<boolean>, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function startInstance(t: TestServer): Promise<IamServer> {
  return createIamServer({
    ...t.config,
    clock: t.clock,
    mail: { resendApiKey: 're_test_key', resendBaseUrl: t.mail.url, from: 'IAM <no-reply@example.com>' },
    outboxPollIntervalInMs: 50,
    hibpApiUrl: null,
    logger: createLogger({ level: 'silent' }),
  });
}

const isAlertTo = (email: string) => (message: { to: string[]; tags: Record<string, string> }) =>
  message.to.includes(email) && message.tags.template === 'security_alert';

describe('durable outbox', () => {
  it('keeps a token-reuse alert through a mail outage and a restart, and delivers it once after', async () => {
    await using t = await createTestServer();
    const victim = await userWithStolenToken(t);
    t.mail.failNext(1_000_000);
    t.clock.advance(60);
    await replay(t, victim.stolen);

    // Queued with the revocation, tried, and kept for later while the provider refuses.
    await until(async () => Number((await outboxRows(t, victim.userId))[0]?.attempts ?? 0) >= 1);
    const [queued] = await outboxRows(t, victim.userId);
    expect(queued).toMatchObject({ state: 'pending' });
    expect(queued?.last_error).toBeTruthy();
    expect(t.mail.messages.filter(isAlertTo(victim.email))).toHaveLength(0);

    // The instance goes away; the provider recovers; a new instance starts on the same database.
    await t.iam.services.outbox.stop();
    t.mail.failNext(0);
    const restarted = await startInstance(t);
    try {
      t.clock.advance(120);
      const alert = await t.mail.waitFor(isAlertTo(victim.email), 10_000);
      expect(alert.headers.idempotencyKey).toBe(queued?.id);
      expect(alert.text).toMatch(/not-me|reuse|session/i);
      await until(async () => (await outboxRows(t, victim.userId))[0]?.state === 'delivered');
      // Nothing of the message (recipient, links) rests in the table once it is delivered.
      const [[kept]] = await t.sql.query<RowDataPacket[]>('SELECT payload FROM outbox_messages WHERE id = ?', [queued?.id]);
      const body = typeof kept?.payload === 'string' ? kept.payload : JSON.stringify(kept?.payload);
      expect(body).not.toContain(victim.email);
      expect(body).toContain('security_alert');
      // Once: no second copy arrives, and the provider saw no second send of the row.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(t.mail.messages.filter(isAlertTo(victim.email))).toHaveLength(1);
      expect(t.mail.replays).toBe(0);
    } finally {
      await restarted.close();
    }
  });

  it('two instances deliver every queued message exactly once', async () => {
    await using t = await createTestServer();
    const second = await startInstance(t);
    try {
      const victims = [];
      for (let i = 0; i < 4; i++) victims.push(await userWithStolenToken(t));
      t.mail.failNext(1_000_000);
      t.clock.advance(60);
      for (const victim of victims) await replay(t, victim.stolen);
      // Every row tried once and parked for its retry: no claim is in flight when the clock jumps.
      await until(async () => (await outboxRows(t)).every((row) => Number(row.attempts) >= 1));
      t.mail.failNext(0);
      t.clock.advance(3600);
      await until(async () => (await outboxRows(t)).every((row) => row.state === 'delivered'));
      const rows = await outboxRows(t);
      expect(rows.length).toBeGreaterThanOrEqual(victims.length);
      for (const victim of victims) expect(t.mail.messages.filter(isAlertTo(victim.email))).toHaveLength(1);
      const keys = t.mail.messages.map((message) => message.headers.idempotencyKey).filter(Boolean);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBe(rows.length);
      expect(t.mail.replays).toBe(0);
    } finally {
      await second.close();
    }
  });
});
