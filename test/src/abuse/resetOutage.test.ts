import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { createTestServer, linkTokenFrom, type TestServer } from '../harness/server';
import type { ReceivedEmail } from '../peers/resend';

// A reset mail the provider did not take must not use up the address's reset cap (3 an hour):
// an outage must not leave the owner, once the provider is back, with `sent` and no mail. Each
// request retires the older links, so a reset mail the provider refused, still waiting in the
// outbox for its retry, is withdrawn when a newer one is queued: the mailbox receives one mail,
// with the link that works, and the budget counts that one mail.

interface ResetRow {
  id: string;
  state: string;
  attempts: number;
  lastError: string | null;
}

/** The user's reset mails in the outbox, oldest first (a pending row holds its template in the serialized mail, a delivered one only the template). */
async function resetRows(t: TestServer, userId: string): Promise<ResetRow[]> {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    `SELECT id, state, attempts, last_error AS lastError FROM outbox_messages
      WHERE user_id = ?
        AND COALESCE(JSON_UNQUOTE(JSON_EXTRACT(payload, '$.json.email.template')), JSON_UNQUOTE(JSON_EXTRACT(payload, '$.template'))) = 'password_reset'
      ORDER BY created_at, id`,
    [userId],
  );
  return rows.map((row) => ({ id: row.id, state: row.state, attempts: Number(row.attempts), lastError: row.lastError }));
}

async function until(condition: () => Promise<boolean>, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const resetMailsTo = (t: TestServer, email: string) =>
  t.mail.messages.filter((message) => message.to.includes(email) && message.tags.template === 'password_reset');

/** The owner, on a browser the account has not used (so the address's budget applies), asks while the provider refuses; waits until it has refused this one. */
async function requestDuringOutage(t: TestServer, owner: ReturnType<TestServer['client']>, user: { email: string; userId: string }) {
  const before = (await resetRows(t, user.userId)).map((row) => row.id);
  expect(await owner.api.auth.requestPasswordReset.mutate({ email: user.email })).toEqual({ status: 'sent' });
  await until(async () => {
    const queued = (await resetRows(t, user.userId)).find((row) => !before.includes(row.id));
    return queued !== undefined && queued.attempts >= 1 && queued.lastError !== null;
  });
}

/** Asks once more with the provider up; the mail must come, now. */
async function requestAndReceive(t: TestServer, owner: ReturnType<TestServer['client']>, email: string): Promise<ReceivedEmail> {
  const received = resetMailsTo(t, email).length;
  expect(await owner.api.auth.requestPasswordReset.mutate({ email })).toEqual({ status: 'sent' });
  await t.mail.waitFor(() => resetMailsTo(t, email).length > received, 5_000);
  return resetMailsTo(t, email).at(-1) as ReceivedEmail;
}

const resetWith = (t: TestServer, message: ReceivedEmail, password: string) =>
  t
    .client()
    .api.auth.resetPassword.mutate({ token: linkTokenFrom(message), password })
    .catch(iamCodeOf);

describe('password reset through a mail provider outage', () => {
  it('three refused reset mails leave one queued, which arrives once with a working link, and the cap still has room for the owner', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const owner = t.client();

    t.mail.failNext(1_000_000);
    for (let i = 0; i < 3; i++) await requestDuringOutage(t, owner, user);

    // One mail waits for the provider, with the newest link; the two it replaced are gone.
    const queued = await resetRows(t, user.userId);
    expect(queued).toEqual([expect.objectContaining({ state: 'pending' })]);
    expect(resetMailsTo(t, user.email)).toHaveLength(0);

    // The provider recovers; the queued mail's retry comes due.
    t.mail.failNext(0);
    t.clock.advance(10);
    const arrived = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'password_reset');
    expect(arrived.headers.idempotencyKey).toBe(queued[0]?.id);
    expect(await resetWith(t, arrived, 'the passphrase after the outage')).toEqual({ status: 'password_reset' });
    await until(async () => (await resetRows(t, user.userId)).every((row) => row.state === 'delivered'));
    // Once: nothing more of the outage arrives, and the provider saw no second send.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resetMailsTo(t, user.email)).toHaveLength(1);
    expect(t.mail.replays).toBe(0);

    // One mail went out, so the address's 3 an hour leave two more: neither request is swallowed.
    await requestAndReceive(t, owner, user.email);
    const last = await requestAndReceive(t, owner, user.email);
    expect(await resetWith(t, last, 'and a second new passphrase')).toEqual({ status: 'password_reset' });
    expect((await resetRows(t, user.userId)).map((row) => row.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(resetMailsTo(t, user.email)).toHaveLength(3);
  });

  it('a request after the recovery replaces the mail still queued: one mail arrives, it works, and the stale ones never come', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const owner = t.client();

    t.mail.failNext(1_000_000);
    for (let i = 0; i < 3; i++) await requestDuringOutage(t, owner, user);
    t.mail.failNext(0);

    // The owner asks again before the queued mail's retry is due: the new mail goes out at once.
    const fresh = await requestAndReceive(t, owner, user.email);
    expect(await resetWith(t, fresh, 'the passphrase after the outage')).toEqual({ status: 'password_reset' });

    // Past every retry of the outage's mails (and past the links' lifetime): nothing more comes.
    t.clock.advance(2 * 3600);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(resetMailsTo(t, user.email)).toHaveLength(1);
    const rows = await resetRows(t, user.userId);
    expect(rows).toEqual([expect.objectContaining({ id: fresh.headers.idempotencyKey, state: 'delivered' })]);
  });
});
