import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmailMessage, renderEmail } from '@iam/emails';
// The server package exposes only its root; this test exercises one module behind it.
import { createMailer, type MailerDeps } from '@iam/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startResendPeer } from './resend';

const apiKey = 're_test_0123456789';
const from = 'IAM <no-reply@iam.example.com>';
const loginCode = {
  template: 'login_code',
  props: {
    code: '730164',
    link: 'https://iam.example.com/sign-in/link?token=lnk_secret_token',
    expiresInMinutes: 10,
    time: new Date('2025-01-15T09:30:00Z'),
    device: 'Firefox on macOS',
  },
} satisfies EmailMessage;

const mailUnavailable = { name: 'IamError', code: 'MAIL_UNAVAILABLE' };

/** Keeps every log call so that a test can prove what never reaches the logs. */
function recordingLogger() {
  const calls: unknown[][] = [];
  const record = (...args: unknown[]) => {
    calls.push(args);
  };
  const logger = { trace: record, debug: record, info: record, warn: record, error: record, fatal: record };
  const serialized = () =>
    JSON.stringify(calls, (_key, value: unknown) => (value instanceof Error ? { message: value.message, cause: value.cause } : value));
  // The mailer only calls the level methods; a full pino instance would add nothing here.
  return { calls, serialized, logger: logger as unknown as MailerDeps['logger'] };
}

let directory: string;

function resendMailer(baseUrl: string, overrides: Partial<MailerDeps> = {}) {
  return createMailer({
    resendApiKey: apiKey,
    resendBaseUrl: baseUrl,
    from,
    outboxDir: directory,
    logger: recordingLogger().logger,
    ...overrides,
  });
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'iam-mailer-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('Resend peer', () => {
  it('answers a batch with one id per email', async () => {
    await using peer = await startResendPeer();
    const email = { from, to: 'a@example.com', subject: 'Hi', text: 'Hello' };
    const response = await fetch(`${peer.url}/emails/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify([email, { ...email, to: ['b@example.com'] }]),
    });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { id: string }[] };
    expect(data.map(({ id }) => id)).toEqual(peer.messages.map(({ id }) => id));
    expect(peer.messages.map(({ to }) => to)).toEqual([['a@example.com'], ['b@example.com']]);
  });

  it('refuses requests without an API key and emails without required fields, as Resend does', async () => {
    await using peer = await startResendPeer();
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${peer.url}/emails`, { method: 'POST', headers, body: JSON.stringify(body) });

    const unauthenticated = await post({}, { from, to: 'a@example.com', subject: 'Hi', text: 'Hello' });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ statusCode: 401, name: 'missing_api_key' });

    const invalid = await post({ authorization: `Bearer ${apiKey}` }, { from, to: 'a@example.com', text: 'Hello' });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ statusCode: 422, name: 'validation_error' });
    expect(peer.messages).toEqual([]);
  });

  it('waits for a message that has not arrived yet, and times out on one that never does', async () => {
    await using peer = await startResendPeer();
    const mailer = resendMailer(peer.url);
    const arriving = peer.waitFor((message) => message.to.includes('late@example.com'));
    await mailer.send({ to: 'late@example.com', email: loginCode });
    await expect(arriving).resolves.toMatchObject({ to: ['late@example.com'] });
    await expect(peer.waitFor(() => false, 50)).rejects.toThrow(/No matching email/);
  });
});

describe('createMailer with Resend', () => {
  it('delivers the rendered email with the API key, and returns the provider id', async () => {
    await using peer = await startResendPeer();
    const mailer = resendMailer(peer.url);

    const { id } = await mailer.send({ to: 'ada@example.com', email: loginCode });

    const received = await peer.waitFor((message) => message.to.includes('ada@example.com'));
    const rendered = await renderEmail(loginCode);
    expect(received).toMatchObject({
      id,
      from,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      tags: { template: 'login_code' },
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(received.subject).toContain('730164');
  });

  it('fails with MAIL_UNAVAILABLE when Resend answers with an error, then recovers', async () => {
    await using peer = await startResendPeer();
    const mailer = resendMailer(peer.url);

    peer.failNext(2, 429);
    await expect(mailer.send({ to: 'ada@example.com', email: loginCode })).rejects.toMatchObject(mailUnavailable);
    await expect(mailer.send({ to: 'ada@example.com', email: loginCode })).rejects.toMatchObject(mailUnavailable);
    expect(peer.messages).toEqual([]);

    peer.failNext();
    const error = await mailer.send({ to: 'ada@example.com', email: loginCode }).catch((caught: unknown) => caught);
    expect(error).toMatchObject(mailUnavailable);
    expect((error as Error).cause).toBeInstanceOf(Error);

    await mailer.send({ to: 'ada@example.com', email: loginCode });
    expect(peer.messages).toHaveLength(1);
  });

  it('fails with MAIL_UNAVAILABLE when Resend cannot be reached', async () => {
    const peer = await startResendPeer();
    await peer.close();
    const mailer = resendMailer(peer.url);
    await expect(mailer.send({ to: 'ada@example.com', email: loginCode })).rejects.toMatchObject(mailUnavailable);
  });

  it('gives up on a Resend that never answers after the timeout', async () => {
    const hung = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hung.address() as AddressInfo;
      const mailer = resendMailer(`http://127.0.0.1:${port}`, { sendTimeoutInMilliseconds: 200 });
      const started = performance.now();
      await expect(mailer.send({ to: 'ada@example.com', email: loginCode })).rejects.toMatchObject(mailUnavailable);
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it('never logs the code, the link, the body or the full recipient address', async () => {
    await using peer = await startResendPeer();
    const log = recordingLogger();
    const mailer = resendMailer(peer.url, { logger: log.logger });

    await mailer.send({ to: 'ada@example.com', email: loginCode });
    peer.failNext(1, 500);
    await mailer.send({ to: 'ada@example.com', email: loginCode }).catch(() => undefined);

    expect(log.calls.length).toBeGreaterThanOrEqual(2);
    const logged = log.serialized();
    expect(logged).toContain('example.com');
    expect(logged).toContain('login_code');
    for (const secret of [loginCode.props.code, 'lnk_secret_token', 'ada@', 'Firefox on macOS']) {
      expect(logged).not.toContain(secret);
    }
  });
});

describe('createMailer with the file outbox', () => {
  it('writes one private JSON file per message, in send order', async () => {
    const outboxDir = join(directory, 'data', 'outbox');
    const mailer = createMailer({ from, outboxDir, logger: recordingLogger().logger });

    const first = await mailer.send({ to: 'ada@example.com', email: loginCode });
    const second = await mailer.send({
      to: 'bob@example.com',
      email: { template: 'password_reset', props: { link: 'https://iam.example.com/r?token=t', expiresInMinutes: 30 } },
    });

    const files = (await readdir(outboxDir)).sort();
    expect(files).toHaveLength(2);
    expect(files.every((file) => file.endsWith('.json') && !file.startsWith('.'))).toBe(true);
    expect((await stat(outboxDir)).mode & 0o777).toBe(0o700);

    const [firstFile, secondFile] = files.map((file) => join(outboxDir, file));
    if (!firstFile || !secondFile) throw new Error('expected two outbox files');
    expect((await stat(firstFile)).mode & 0o777).toBe(0o600);

    const rendered = await renderEmail(loginCode);
    const written = JSON.parse(await readFile(firstFile, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({
      id: first.id,
      to: 'ada@example.com',
      from,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      template: 'login_code',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(JSON.parse(await readFile(secondFile, 'utf8'))).toMatchObject({ id: second.id, template: 'password_reset' });
  });

  it('fails with MAIL_UNAVAILABLE when the outbox cannot be written', async () => {
    const notADirectory = join(directory, 'outbox');
    await writeFile(notADirectory, '');
    const mailer = createMailer({ from, outboxDir: notADirectory, logger: recordingLogger().logger });
    await expect(mailer.send({ to: 'ada@example.com', email: loginCode })).rejects.toMatchObject(mailUnavailable);
  });
});
