import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIamServer, createLogger, type IamServer } from '@iam/server';
import type { RowDataPacket } from 'mysql2';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { enrolTotp } from '../harness/totp';
import { createSoftwareAuthenticator } from '../harness/webauthn';

// Security events leave through the durable outbox as Standard Webhooks: signed, at least once,
// in order per user and endpoint, retried with backoff across restarts. The receiver here is a
// real HTTP server on loopback that verifies every request with the `standardwebhooks` package.

interface SecurityEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { userId: string };
}

interface Attempt {
  id: string;
  path: string;
  body: string;
  headers: IncomingHttpHeaders;
  event: SecurityEvent;
  /** What the receiver answered. */
  status: number;
}

/** A status, a redirect, or `hang`: no answer until `release()`. */
type Answer = number | { status: number; location: string } | 'hang';

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * A webhook receiver: verifies each request's signature (a request that does not verify fails
 * the test), answers what `answer` says (204 by default), and keeps every attempt.
 */
async function startReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const attempts: Attempt[] = [];
  const unverified: string[] = [];
  const strays: string[] = [];
  const held: Array<() => void> = [];
  let answer: (event: SecurityEvent, attempt: number) => Answer = () => 204;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (request.method !== 'POST' || request.url !== '/hooks/iam') {
        strays.push(`${request.method} ${request.url}`);
        response.writeHead(404).end();
        return;
      }
      let event: SecurityEvent;
      try {
        event = verifier.verify(body, request.headers as Record<string, string>) as SecurityEvent;
      } catch (error) {
        unverified.push(`${(error as Error).message}: ${body}`);
        response.writeHead(400).end();
        return;
      }
      const id = String(request.headers['webhook-id']);
      const chosen = answer(event, attempts.filter((attempt) => attempt.id === id).length + 1);
      if (chosen === 'hang') {
        held.push(() => response.writeHead(503).end());
        attempts.push({ id, path: request.url, body, headers: request.headers, event, status: 0 });
        return;
      }
      const status = typeof chosen === 'number' ? chosen : chosen.status;
      attempts.push({ id, path: request.url, body, headers: request.headers, event, status });
      if (typeof chosen === 'number') response.writeHead(status).end();
      else response.writeHead(status, { location: chosen.location }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/iam`;
  return {
    url,
    secret,
    attempts,
    unverified,
    strays,
    /** How the receiver answers from now on. */
    answer(next: (event: SecurityEvent, attempt: number) => Answer) {
      answer = next;
    },
    /** Answers the requests held by `hang` (503). */
    release() {
      for (const end of held.splice(0)) end();
    },
    /** The events it accepted (2xx), in arrival order. */
    accepted(userId?: string): Attempt[] {
      return attempts.filter(
        (attempt) => attempt.status >= 200 && attempt.status < 300 && (userId === undefined || attempt.event.data.userId === userId),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const end of held.splice(0)) end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the receiver accepted an event of `type` for `userId`; returns it. */
async function acceptedEvent(receiver: Receiver, userId: string, type: string, matching: (event: SecurityEvent) => boolean = () => true) {
  const find = () => receiver.accepted(userId).find((attempt) => attempt.event.type === type && matching(attempt.event));
  await until(() => find() !== undefined, `${type} for ${userId}`);
  return find() as Attempt;
}

/** Waits until the outbox recorded `attempts` tries of a row (a try's answer is written just after the receiver sees it). */
async function triedTimes(t: TestServer, id: string | undefined, attempts: number): Promise<void> {
  await until(async () => {
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT attempts FROM outbox_messages WHERE id = ?', [id]);
    return Number(rows[0]?.attempts) >= attempts;
  }, `${attempts} tries of ${id}`);
}

async function webhookRows(t: TestServer, userId: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    "SELECT id, state, attempts, last_error, ordering_key, payload FROM outbox_messages WHERE kind = 'webhook' AND user_id = ? ORDER BY created_at, id",
    [userId],
  );
  return rows;
}

/** Every accepted webhook-id arrived once, with the documented envelope and Standard Webhooks headers. */
function expectWellFormed(receiver: Receiver) {
  expect(receiver.unverified).toEqual([]);
  expect(receiver.strays).toEqual([]);
  const accepted = receiver.accepted();
  expect(new Set(accepted.map((attempt) => attempt.id)).size).toBe(accepted.length);
  for (const attempt of accepted) {
    expect(attempt.id).toMatch(/^obx_[0-9a-z]{26}$/);
    expect(attempt.headers['content-type']).toBe('application/json');
    expect(attempt.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(attempt.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(Object.keys(JSON.parse(attempt.body))).toEqual(['type', 'timestamp', 'data']);
    expect(new Date(attempt.event.timestamp).toISOString()).toBe(attempt.event.timestamp);
    expect(attempt.event.data.userId).toMatch(/^usr_/);
  }
}

function startInstance(t: TestServer, webhooks: Receiver[]): Promise<IamServer> {
  return createIamServer({
    ...t.config,
    clock: t.clock,
    mail: { resendApiKey: 're_test_key', resendBaseUrl: t.mail.url, from: 'IAM <no-reply@example.com>' },
    outboxPollIntervalInMs: 50,
    hibpApiUrl: null,
    webhooks: webhooks.map((receiver) => ({ url: receiver.url, secret: receiver.secret, events: ['user.created', 'password.changed'] })),
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
}

describe('security-event webhooks', () => {
  it('delivers every event the API can cause, once each, signed, in order, with ids and facts only; an endpoint gets only its events', async () => {
    const everything = await startReceiver(newSecret());
    const passwordsOnly = await startReceiver(newSecret());
    await using t = await createTestServer({
      webhooks: [
        {
          url: everything.url,
          secret: everything.secret,
          events: [
            'user.created',
            'user.deleted',
            'session.revoked',
            'session.reuse_detected',
            'session.challenged',
            'mfa.changed',
            'password.changed',
            'passkey.added',
            'passkey.removed',
          ],
        },
        { url: passwordsOnly.url, secret: passwordsOnly.secret, events: ['password.changed'] },
      ],
    });
    try {
      // Sign-up: user.created with the address (not yet verified).
      const user = await t.signUp();
      const created = await acceptedEvent(everything, user.userId, 'user.created');
      expect(created.event.data).toEqual({ userId: user.userId, email: user.email, emailVerified: false, method: 'password' });

      // A sign-in from a device the account never used is challenged (the mailed code answers it).
      const elsewhere = await t.signInOnNewDevice(user);
      const challenged = await acceptedEvent(everything, user.userId, 'session.challenged');
      expect(challenged.event.data).toEqual({
        userId: user.userId,
        flow: 'sign_in',
        factor: 'email',
        method: 'password',
        reasons: expect.arrayContaining(['new_device']),
      });

      // The first device ends that session.
      await user.api.session.revoke.mutate({ sessionId: elsewhere.sessionId });
      const revoked = await acceptedEvent(everything, user.userId, 'session.revoked');
      expect(revoked.event.data).toEqual({ userId: user.userId, sessionId: elsewhere.sessionId, reason: 'user' });

      // A rotated refresh token comes back from someone else after the grace window.
      const firstSessionId = (await user.api.session.list.query()).find((session) => session.current)?.id;
      const stolen = user.jar.get('iam_rt');
      await user.api.session.refresh.mutate();
      t.clock.advance(60);
      const thief = t.client();
      thief.jar.store(new Response(null, { headers: { 'set-cookie': `iam_rt=${stolen}` } }));
      await expect(thief.api.session.refresh.mutate()).rejects.toMatchObject({ data: { iamCode: 'REFRESH_TOKEN_REUSED' } });
      const reuse = await acceptedEvent(everything, user.userId, 'session.reuse_detected');
      expect(reuse.event.data).toEqual({ userId: user.userId, sessionId: firstSessionId });
      const reuseRevoked = await acceptedEvent(
        everything,
        user.userId,
        'session.revoked',
        (event) => event.data.reason === 'refresh_reuse',
      );
      expect(reuseRevoked.event.data).toEqual({ userId: user.userId, sessionId: firstSessionId, reason: 'refresh_reuse' });

      // Signed in again on the first browser: password change, passkey added and removed, TOTP on.
      const again = await t.signInOn(t.client({ deviceOf: user.jar }), user);
      const newPassword = `another horse ${randomBytes(6).toString('hex')}`;
      await again.api.auth.changePassword.mutate({ currentPassword: user.password, newPassword });
      const changed = await acceptedEvent(everything, user.userId, 'password.changed');
      expect(changed.event.data).toEqual({ userId: user.userId, method: 'change' });

      const authenticator = createSoftwareAuthenticator();
      const options = await again.api.passkey.registrationOptions.mutate();
      const passkey = await again.api.passkey.register.mutate({
        response: authenticator.register(options, { origin: t.url, rpId: new URL(t.url).hostname }) as never,
      });
      expect((await acceptedEvent(everything, user.userId, 'passkey.added')).event.data).toEqual({
        userId: user.userId,
        passkeyId: passkey.id,
      });
      await again.api.passkey.remove.mutate({ id: passkey.id, stepUpToken: await stepUpByMail(t, again, 'passkey_remove') });
      expect((await acceptedEvent(everything, user.userId, 'passkey.removed')).event.data).toEqual({
        userId: user.userId,
        passkeyId: passkey.id,
      });

      await enrolTotp(again.api, t.clock.now());
      expect((await acceptedEvent(everything, user.userId, 'mfa.changed')).event.data).toEqual({
        userId: user.userId,
        factor: 'totp',
        enabled: true,
      });

      // Another account is deleted: user.deleted, after its user.created.
      const leaving = await t.signUp();
      await acceptedEvent(everything, leaving.userId, 'user.created');
      await leaving.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, leaving, 'account_delete') });
      expect((await acceptedEvent(everything, leaving.userId, 'user.deleted')).event.data).toEqual({ userId: leaving.userId, by: 'user' });

      // Once per webhook-id, in the order the events happened (their ids sort in that order).
      expectWellFormed(everything);
      const types = everything.accepted(user.userId).map((attempt) => attempt.event.type);
      expect(types.filter((type) => type !== 'session.challenged')).toEqual([
        'user.created',
        'session.revoked',
        'session.revoked',
        'session.reuse_detected',
        'password.changed',
        'passkey.added',
        'passkey.removed',
        'mfa.changed',
      ]);
      const ids = everything.accepted(user.userId).map((attempt) => attempt.id);
      expect(ids).toEqual([...ids].sort());
      expect(everything.accepted(leaving.userId).map((attempt) => attempt.event.type)).toEqual(['user.created', 'user.deleted']);
      // No retry was needed: every attempt was answered 204 once.
      expect(everything.attempts.length).toBe(everything.accepted().length);

      // Nothing secret in any body: no password, token, cookie, code or address of the network.
      const bodies = everything.attempts.map((attempt) => attempt.body).join('\n');
      for (const secret of [user.password, newPassword, stolen, user.jar.get('iam_rt'), user.jar.get('iam_cid'), user.accessToken]) {
        expect(secret && bodies.includes(secret)).toBeFalsy();
      }
      expect(bodies).not.toContain('127.0.0.1');
      // The address only in user.created.
      const withAddress = everything.attempts.filter((attempt) => attempt.body.includes(user.email));
      expect(withAddress.map((attempt) => attempt.event.type)).toEqual(['user.created']);

      // The endpoint subscribed to password.changed only got that.
      await until(() => passwordsOnly.accepted().length >= 1, 'the second endpoint');
      expectWellFormed(passwordsOnly);
      expect(passwordsOnly.attempts.map((attempt) => attempt.event)).toEqual([changed.event]);
      expect(passwordsOnly.attempts[0]?.id).not.toBe(changed.id);

      // Delivered rows keep no event data (the address in user.created).
      await until(async () => (await webhookRows(t, user.userId)).every((row) => row.state === 'delivered'), 'every row delivered');
      const rows = await webhookRows(t, user.userId);
      expect(JSON.stringify(rows.map((row) => row.payload))).not.toContain(user.email);
      expect(rows.map((row) => row.ordering_key)).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^wh[0-9a-f]{16}:${user.userId}$`))]),
      );
    } finally {
      await everything.close();
      await passwordsOnly.close();
    }
  });

  it('administration reports user.disabled, user.enabled and mfa.changed (all factors), with the admin’s revocations', async () => {
    const receiver = await startReceiver(newSecret());
    await using t = await createTestServer({
      webhooks: [
        { url: receiver.url, secret: receiver.secret, events: ['user.disabled', 'user.enabled', 'mfa.changed', 'session.revoked'] },
      ],
    });
    try {
      const admin = await t.signUp();
      await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
      const user = await t.signUp();
      await admin.api.admin.users.disable.mutate({
        userId: user.userId,
        reason: 'fraud review',
        stepUpToken: await stepUpByMail(t, admin, 'admin'),
      });
      const disabled = await acceptedEvent(receiver, user.userId, 'user.disabled');
      expect(disabled.event.data).toEqual({ userId: user.userId, reason: 'fraud review' });
      const revoked = await acceptedEvent(receiver, user.userId, 'session.revoked');
      expect(revoked.event.data).toMatchObject({ userId: user.userId, reason: 'admin' });
      await admin.api.admin.users.enable.mutate({ userId: user.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') });
      expect((await acceptedEvent(receiver, user.userId, 'user.enabled')).event.data).toEqual({ userId: user.userId });
      await admin.api.admin.users.resetMfa.mutate({ userId: user.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') });
      expect((await acceptedEvent(receiver, user.userId, 'mfa.changed')).event.data).toEqual({
        userId: user.userId,
        factor: 'all',
        enabled: false,
      });
      // In the order they happened.
      expect(receiver.accepted(user.userId).map((attempt) => attempt.event.type)).toEqual([
        'user.disabled',
        'session.revoked',
        'user.enabled',
        'mfa.changed',
      ]);
      expectWellFormed(receiver);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver answering 500 (or a redirect, never followed) gets retries with backoff and the same webhook-id, until it answers 2xx', async () => {
    const receiver = await startReceiver(newSecret());
    await using t = await createTestServer({ webhooks: [{ url: receiver.url, secret: receiver.secret, events: ['user.created'] }] });
    try {
      receiver.answer((_event, attempt) => (attempt === 1 ? 500 : attempt === 2 ? { status: 307, location: '/elsewhere' } : 204));
      const user = await t.signUp();
      await until(() => receiver.attempts.length === 1, 'the first try');
      await until(async () => (await webhookRows(t, user.userId))[0]?.last_error === 'the receiver answered 500', 'the failure recorded');
      // Not again before its backoff (5 s) is up.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.attempts).toHaveLength(1);

      t.clock.advance(5);
      await until(() => receiver.attempts.length === 2, 'the second try');
      await until(async () => (await webhookRows(t, user.userId))[0]?.last_error === 'the receiver answered 307', 'the redirect refused');
      t.clock.advance(10);
      await until(() => receiver.accepted().length === 1, 'the delivery');

      expectWellFormed(receiver);
      const ids = receiver.attempts.map((attempt) => attempt.id);
      expect(new Set(ids).size).toBe(1);
      expect(new Set(receiver.attempts.map((attempt) => attempt.body)).size).toBe(1);
      expect(receiver.attempts.map((attempt) => attempt.status)).toEqual([500, 307, 204]);
      expect(receiver.strays).toEqual([]);
      // Marked delivered once the answer is in.
      await until(async () => (await webhookRows(t, user.userId))[0]?.state === 'delivered', 'the row delivered');
      const [row] = await webhookRows(t, user.userId);
      expect(row).toMatchObject({ id: ids[0], state: 'delivered', attempts: 3, last_error: null });
      // The metrics tell the kinds apart.
      const metrics = await t.iam.services.metrics.registry.metrics();
      expect(metrics).toMatch(/iam_outbox_failed_attempts_total\{kind="webhook"\} 2/);
      expect(metrics).toMatch(/iam_outbox_delivered_total\{kind="webhook"\} 1/);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver that does not answer holds up no mail', async () => {
    const receiver = await startReceiver(newSecret());
    await using t = await createTestServer({ webhooks: [{ url: receiver.url, secret: receiver.secret, events: ['user.created'] }] });
    try {
      receiver.answer(() => 'hang');
      const user = await t.signUp();
      await until(() => receiver.attempts.length === 1, 'the held request');
      // The password-changed notice goes through the outbox while the webhook request is still open.
      await user.api.auth.changePassword.mutate({
        currentPassword: user.password,
        newPassword: `held horse ${randomBytes(6).toString('hex')}`,
      });
      await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'password_changed', 5_000);
      expect(receiver.accepted()).toEqual([]);
      const [row] = await webhookRows(t, user.userId);
      expect(row).toMatchObject({ state: 'pending', attempts: 0 });
      receiver.release();
      await until(async () => (await webhookRows(t, user.userId))[0]?.last_error === 'the receiver answered 503', 'the answer recorded');
    } finally {
      await receiver.close();
    }
  });

  it('in order per user: while one event of a user waits for its retry, the next is held; other users go on', async () => {
    const receiver = await startReceiver(newSecret());
    await using t = await createTestServer({
      webhooks: [{ url: receiver.url, secret: receiver.secret, events: ['user.created', 'password.changed', 'user.deleted'] }],
    });
    try {
      let blocked = '';
      receiver.answer((event) => (event.data.userId === blocked ? 500 : 204));
      const user = await t.signUp();
      await triedTimes(t, (await acceptedEvent(receiver, user.userId, 'user.created')).id, 1);
      blocked = user.userId;

      // Two events for one user while the receiver refuses them.
      const first = `first horse ${randomBytes(6).toString('hex')}`;
      await user.api.auth.changePassword.mutate({ currentPassword: user.password, newPassword: first });
      await until(() => receiver.attempts.some((attempt) => attempt.event.type === 'password.changed'), 'the first try');
      await user.api.auth.changePassword.mutate({ currentPassword: first, newPassword: `second horse ${randomBytes(6).toString('hex')}` });
      const rows = await webhookRows(t, user.userId);
      expect(rows.map((row) => row.state)).toEqual(['delivered', 'pending', 'pending']);
      const [, firstChange, secondChange] = rows;
      await triedTimes(t, firstChange?.id, 1);

      // Another user is not held up by this one.
      const other = await t.signUp();
      await acceptedEvent(receiver, other.userId, 'user.created');

      // Retries of the first come and go; the second is never tried before the first is delivered.
      for (const [index, seconds] of [5, 10, 20].entries()) {
        t.clock.advance(seconds);
        await triedTimes(t, firstChange?.id, index + 2);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const triedForUser = receiver.attempts.filter(
        (attempt) => attempt.event.data.userId === user.userId && attempt.event.type === 'password.changed',
      );
      expect(triedForUser.length).toBeGreaterThanOrEqual(4);
      expect(new Set(triedForUser.map((attempt) => attempt.id))).toEqual(new Set([firstChange?.id]));

      // The receiver recovers: the first, then the second.
      blocked = '';
      t.clock.advance(40);
      await until(() => receiver.accepted(user.userId).length === 3, 'both changes');
      expect(receiver.accepted(user.userId).map((attempt) => attempt.id)).toEqual([rows[0]?.id, firstChange?.id, secondChange?.id]);
      expectWellFormed(receiver);
    } finally {
      await receiver.close();
    }
  });

  it('an account deleted while its user.created waits is reported without the address', async () => {
    const receiver = await startReceiver(newSecret());
    await using t = await createTestServer({
      webhooks: [{ url: receiver.url, secret: receiver.secret, events: ['user.created', 'user.deleted'] }],
    });
    try {
      receiver.answer(() => 503);
      const user = await t.signUp();
      await until(() => receiver.attempts.length >= 1, 'the first try');
      await triedTimes(t, receiver.attempts[0]?.id, 1);
      await user.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, user, 'account_delete') });
      receiver.answer(() => 204);
      t.clock.advance(5);
      await until(() => receiver.accepted(user.userId).length === 2, 'both events');
      const [created, deleted] = receiver.accepted(user.userId);
      expect(created?.event).toMatchObject({
        type: 'user.created',
        data: { userId: user.userId, emailVerified: false, method: 'password' },
      });
      expect(created?.body).not.toContain(user.email);
      expect(deleted?.event).toMatchObject({ type: 'user.deleted', data: { userId: user.userId, by: 'user' } });
      expectWellFormed(receiver);
    } finally {
      await receiver.close();
    }
  });

  it('loses nothing across a restart: a second instance on the same database delivers what the first could not', async () => {
    const receiver = await startReceiver(newSecret());
    await using t = await createTestServer({
      webhooks: [{ url: receiver.url, secret: receiver.secret, events: ['user.created', 'password.changed'] }],
    });
    let restarted: IamServer | undefined;
    try {
      receiver.answer(() => 500);
      const user = await t.signUp();
      await user.api.auth.changePassword.mutate({
        currentPassword: user.password,
        newPassword: `moved horse ${randomBytes(6).toString('hex')}`,
      });
      await until(() => receiver.attempts.length >= 1, 'a first try');
      const queued = await webhookRows(t, user.userId);
      expect(queued.map((row) => row.state)).toEqual(['pending', 'pending']);

      // The first instance stops; the receiver recovers; another instance starts on the same database.
      await t.iam.close();
      receiver.answer(() => 204);
      restarted = await startInstance(t, [receiver]);
      t.clock.advance(10);
      await until(() => receiver.accepted(user.userId).length === 2, 'both events after the restart');
      expect(receiver.accepted(user.userId).map((attempt) => [attempt.id, attempt.event.type])).toEqual([
        [queued[0]?.id, 'user.created'],
        [queued[1]?.id, 'password.changed'],
      ]);
      expect(receiver.attempts.filter((attempt) => attempt.id === queued[0]?.id).length).toBeGreaterThanOrEqual(2);
      expectWellFormed(receiver);
    } finally {
      await restarted?.close();
      await receiver.close();
    }
  });

  it('refuses a configuration that is not safe or not valid, saying what is wrong', async () => {
    const base = {
      publicUrl: 'http://127.0.0.1:1',
      secret: randomBytes(32).toString('base64url'),
      databaseUrl: 'mysql://x@127.0.0.1:1/x',
      dataDir: '/tmp',
    };
    const secret = newSecret();
    const refused = (webhooks: unknown) =>
      createIamServer({ ...base, webhooks: webhooks as never }).then(
        () => 'started',
        (error: Error) => error.message,
      );
    expect(await refused([{ url: 'http://hooks.example.com/iam', secret, events: ['user.created'] }])).toMatch(
      /webhooks\.0\.url: must be https/,
    );
    expect(await refused([{ url: 'https://hooks.example.com/iam', secret: 'not-a-secret', events: ['user.created'] }])).toMatch(
      /webhooks\.0\.secret: must be "whsec_"/,
    );
    expect(await refused([{ url: 'https://hooks.example.com/iam', secret: 'whsec_c2hvcnQ=', events: ['user.created'] }])).toMatch(
      /webhooks\.0\.secret: must hold 24 to 64 bytes/,
    );
    expect(await refused([{ url: 'https://hooks.example.com/iam', secret, events: ['user.signed_up'] }])).toMatch(
      /webhooks\.0\.events\.0: one of user\.created/,
    );
    expect(await refused([{ url: 'https://hooks.example.com/iam', secret, events: [] }])).toMatch(
      /webhooks\.0\.events: name at least one event/,
    );
    expect(
      await refused([
        { url: 'https://hooks.example.com/iam', secret, events: ['user.created'] },
        { url: 'https://hooks.example.com/iam', secret, events: ['user.deleted'] },
      ]),
    ).toMatch(/webhooks\.1\.url: is listed twice/);
  });
});
