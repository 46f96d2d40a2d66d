import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { send } from '../harness/http';
import { createTestServer, linkTokenFrom, uniqueEmail } from '../harness/server';

describe('the pages emailed links open', () => {
  it('a prefetch (GET) of the verification link consumes nothing; the button (POST) verifies and signs in', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('page');
    const { api, jar } = t.client();
    await api.auth.signup.mutate({ email, password: 'a page-driven passphrase' });
    // The page opened in the browser that signed up (another browser is asked for a password).
    const cookie = `iam_cid=${jar.get('iam_cid')}`;
    const mail = await t.lastMailTo(email);
    const token = linkTokenFrom(mail);
    expect(mail.text).toContain(`${t.url}/verify-email?token=${token}`);

    for (let i = 0; i < 3; i++) {
      const page = await send(`${t.url}/verify-email?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(page.text).toContain('<form method="post">');
    }
    const [before] = await t.sql.query<RowDataPacket[]>('SELECT email_verified_at FROM users WHERE email = ?', [email]);
    expect(before[0]?.email_verified_at).toBeNull();

    const confirmed = await send(`${t.url}/verify-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('signed in');
    expect(confirmed.headers.getSetCookie().some((cookie) => cookie.startsWith('iam_rt='))).toBe(true);
    const [after] = await t.sql.query<RowDataPacket[]>('SELECT email_verified_at FROM users WHERE email = ?', [email]);
    expect(after[0]?.email_verified_at).not.toBeNull();

    const again = await send(`${t.url}/verify-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(again.status).toBe(400);
    expect(again.text).not.toMatch(/stack|at \w+ \(/);
  });

  it('the reset page takes the new password in a form, and a bad token never reaches the form', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await user.api.auth.requestPasswordReset.mutate({ email: user.email });
    const token = linkTokenFrom(await t.mail.waitFor((message) => message.tags.template === 'password_reset'));
    expect((await send(`${t.url}/reset-password?token=<script>`)).status).toBe(400);
    const form = await send(`${t.url}/reset-password?token=${token}`);
    expect(form.text).toContain('type="password"');
    const done = await send(`${t.url}/reset-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, password: 'a brand new page passphrase' }).toString(),
    });
    expect(done.status).toBe(200);
    const login = await t
      .client({ deviceOf: user.jar })
      .api.auth.login.mutate({ email: user.email, password: 'a brand new page passphrase' });
    expect(login.status).toBe('authenticated');
  });
});
