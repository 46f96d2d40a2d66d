import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { codeFrom, createTestServer, type TestServer, uniqueEmail } from '../harness/server';

const script = fileURLToPath(new URL('./python/client_flow.py', import.meta.url));

interface Summary {
  ok: boolean;
  failure?: string;
  steps: string[];
  userId: string;
  sessionId: string;
  challenged: boolean;
  refusedAfterLogout: string[];
  operations: number;
}

/**
 * Runs the Python client against the service. When it waits for a code, the newest mail to the
 * address answers on its standard input, as a person reading the mail would.
 */
async function runPythonClient(
  t: TestServer,
  email: string,
  password: string,
): Promise<{ summary: Summary; exitCode: number | null; stderr: string }> {
  const child = spawn('/usr/bin/python3', [script, t.url, email, password], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let mailsSeen = 0;
  let last: unknown;
  for await (const line of createInterface({ input: child.stdout })) {
    last = JSON.parse(line) as unknown;
    if ((last as { waiting_for?: string }).waiting_for === 'code') {
      await t.mail.waitFor((message) => message.to.includes(email) && t.mail.messages.indexOf(message) >= mailsSeen);
      mailsSeen = t.mail.messages.length;
      child.stdin.write(`${codeFrom(await t.lastMailTo(email))}\n`);
    }
  }
  return { summary: last as Summary, exitCode: await exited, stderr };
}

describe('a Python client of the REST API', () => {
  it('signs up, verifies, signs in, refreshes from the cookie, reads me and signs out, finding every path in the document', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('python');
    const password = 'correct horse battery staple 42';
    const { summary, exitCode, stderr } = await runPythonClient(t, email, password);
    expect(stderr).toBe('');
    expect(summary.failure).toBeUndefined();
    expect(exitCode).toBe(0);
    expect(summary).toMatchObject({
      ok: true,
      steps: ['document', 'signup', 'verifyEmail', 'login', 'refresh', 'me', 'logout', 'refused_after_logout'],
      refusedAfterLogout: ['SESSION_REVOKED', 'REFRESH_TOKEN_INVALID'],
      // The cookie jar kept the device cookie of the sign-up: the login was not challenged.
      challenged: false,
    });
    expect(summary.operations).toBeGreaterThanOrEqual(30);

    const [users] = await t.sql.query<RowDataPacket[]>('SELECT id, email_verified_at FROM users WHERE email = ?', [email]);
    expect(users).toEqual([expect.objectContaining({ id: summary.userId, email_verified_at: expect.any(Date) })]);
    // The login's session is the one refreshed and signed out; the sign-up's was replaced by it.
    const [sessions] = await t.sql.query<RowDataPacket[]>(
      'SELECT id, revoked_at, revoked_reason FROM sessions WHERE user_id = ? ORDER BY created_at',
      [summary.userId],
    );
    expect(sessions).toEqual([
      expect.objectContaining({ revoked_at: expect.any(Date), revoked_reason: 'replaced' }),
      expect.objectContaining({ id: summary.sessionId, revoked_at: expect.any(Date), revoked_reason: 'logout' }),
    ]);
    const [devices] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM devices WHERE user_id = ?', [summary.userId]);
    expect(Number(devices[0]?.n)).toBe(1);
  });
});
