import { iamCodeOf, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { resultOf, send } from '../harness/http';
import { createTestServer, linkTokenFrom, uniqueEmail } from '../harness/server';

describe('sign-up checks through the service', () => {
  it('refuses disposable and MX-less domains, and breached or common passwords, creating nothing', async () => {
    await using t = await createTestServer();
    t.dns.set('no-mail.example', { nxdomain: true });
    const { api } = t.client();
    const attempt = (email: string, password = 'a perfectly fine passphrase') =>
      api.auth.signup.mutate({ email, password }).catch(iamCodeOf);
    expect(await attempt('someone@mailinator.com')).toBe('EMAIL_DISPOSABLE');
    expect(await attempt('someone@no-mail.example')).toBe('EMAIL_DOMAIN_INVALID');
    expect(await attempt(uniqueEmail('breach'), 'breached password 123')).toBe('PASSWORD_BREACHED');
    expect(await attempt(uniqueEmail('common'), 'password1')).toBe('PASSWORD_TOO_WEAK');
    const [users] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    expect(Number(users[0]?.n)).toBe(0);
    expect(t.mail.messages).toHaveLength(0);
    // The breach check asked by prefix only, with padding.
    expect(t.pwned.requests.every((request) => request.prefix.length === 5 && request.padding)).toBe(true);
  });

  it('keeps the offline list when the breach API is down, and lets other passwords through', async () => {
    await using t = await createTestServer();
    t.pwned.setDown('error');
    const { api } = t.client();
    expect(await api.auth.signup.mutate({ email: uniqueEmail('down'), password: 'iloveyou!' }).catch(iamCodeOf)).toBe('PASSWORD_TOO_WEAK');
    const accepted = await api.auth.signup.mutate({ email: uniqueEmail('down'), password: 'breached password 123' });
    expect(accepted.status).toBe('verification_required');
    // The outage is counted, not only logged.
    const metrics = await send(`${t.url}/metrics`);
    expect(metrics.text).toMatch(/^iam_breach_check_unavailable_total [1-9]/m);
  });
});

describe('password reset', () => {
  it('answers sent for known and unknown addresses alike, and mails only the known one', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { api } = t.client();
    const unknown = uniqueEmail('nobody');
    expect(await api.auth.requestPasswordReset.mutate({ email: unknown })).toEqual({ status: 'sent' });
    expect(await api.auth.requestPasswordReset.mutate({ email: user.email })).toEqual({ status: 'sent' });
    const mail = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'password_reset');
    expect(mail.text).toContain(`${t.url}/reset-password?token=`);
    expect(t.mail.messages.some((message) => message.to.includes(unknown))).toBe(false);
  });

  it('sends at most 3 reset mails an hour to one address, and one more to each network, whatever the caller sees', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { api } = t.client();
    for (let i = 0; i < 6; i++) expect(await api.auth.requestPasswordReset.mutate({ email: user.email })).toEqual({ status: 'sent' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(t.mail.messages.filter((message) => message.tags.template === 'password_reset')).toHaveLength(4);
  });

  it('a reset link works once, even for 10 parallel consumers, revokes every session and does not sign in', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await user.api.auth.requestPasswordReset.mutate({ email: user.email });
    const token = linkTokenFrom(await t.mail.waitFor((message) => message.tags.template === 'password_reset'));
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        send(`${t.trpcUrl}/auth.resetPassword`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ json: { token, password: `brand new passphrase number ${i}` } }),
        }),
      ),
    );
    const succeeded = outcomes.filter((response) => response.status === 200);
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0] && resultOf(succeeded[0])).toEqual({ status: 'password_reset' });
    expect(succeeded[0]?.headers.getSetCookie().some((cookie) => cookie.startsWith('iam_rt=') && !cookie.includes('Max-Age=0'))).toBe(
      false,
    );
    for (const response of outcomes.filter((r) => r.status !== 200)) {
      expect((response.body as { error: { json: { data: { iamCode: string } } } }).error.json.data.iamCode).toBe('LINK_INVALID');
    }
    await expect(user.api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    const [live] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [
      user.userId,
    ]);
    expect(Number(live[0]?.n)).toBe(0);
    expect(await t.client().api.auth.login.mutate({ email: user.email, password: user.password }).catch(iamCodeOf)).toBe(
      'INVALID_CREDENTIALS',
    );
  });

  it('a newer link retires the older one, and a changed password retires them all', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const resetMails = () => t.mail.messages.filter((message) => message.tags.template === 'password_reset');
    await user.api.auth.requestPasswordReset.mutate({ email: user.email });
    await t.mail.waitFor(() => resetMails().length === 1);
    await user.api.auth.requestPasswordReset.mutate({ email: user.email });
    await t.mail.waitFor(() => resetMails().length === 2);
    const [older, newer] = resetMails().map(linkTokenFrom);
    const reset = (token: string | undefined) =>
      t
        .client()
        .api.auth.resetPassword.mutate({ token: token ?? '', password: 'another fine passphrase' })
        .catch(iamCodeOf);
    expect(await reset(older)).toBe('LINK_INVALID');
    await user.api.auth.changePassword.mutate({ currentPassword: user.password, newPassword: 'a changed passphrase entirely' });
    expect(await reset(newer)).toBe('LINK_INVALID');
  });

  it('changing the password needs the current one, keeps this session and ends the others', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const other = await t.signInOnNewDevice(user);
    expect(
      await user.api.auth.changePassword
        .mutate({ currentPassword: 'not my password', newPassword: 'a changed passphrase entirely' })
        .catch(iamCodeOf),
    ).toBe('INVALID_CREDENTIALS');
    expect(await user.api.auth.changePassword.mutate({ currentPassword: user.password, newPassword: 'password1' }).catch(iamCodeOf)).toBe(
      'PASSWORD_TOO_WEAK',
    );
    await expect(
      user.api.auth.changePassword.mutate({ currentPassword: user.password, newPassword: 'a changed passphrase entirely' }),
    ).resolves.toEqual({ status: 'password_changed' });
    await expect(user.api.auth.me.query()).resolves.toMatchObject({ email: user.email });
    await expect(other.api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    const login = await t
      .client({ deviceOf: user.jar })
      .api.auth.login.mutate({ email: user.email, password: 'a changed passphrase entirely' });
    expect(login.status).toBe('authenticated');
  });
});
