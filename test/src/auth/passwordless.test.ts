import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { send } from '../harness/http';
import { authenticated, codeFrom, createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';
import { enrolTotp, totpCode } from '../harness/totp';

function signInMails(t: TestServer, email: string) {
  return t.mail.messages.filter((message) => message.to.includes(email) && message.tags.template === 'login_code');
}

async function nextSignInMail(t: TestServer, email: string, count: number) {
  await t.mail.waitFor(() => signInMails(t, email).length > count);
  return signInMails(t, email).at(-1) as NonNullable<ReturnType<typeof signInMails>[number]>;
}

describe('passwordless email sign-in', () => {
  it('a code mailed to the address signs in on any device; the device is trusted and the verdict says the code answered the checks', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const laptop = t.client();
    const request = await laptop.api.auth.requestSignIn.mutate({ email: user.email.toUpperCase() });
    expect(request).toEqual({ status: 'sent', challengeId: expect.stringMatching(/^chl_/) });
    const mail = await nextSignInMail(t, user.email, 0);
    expect(mail.text).toContain('/sign-in-link?token=');

    const signedIn = authenticated(await laptop.api.auth.signInWithCode.mutate({ challengeId: request.challengeId, code: codeFrom(mail) }));
    expect(signedIn.user.id).toBe(user.userId);
    expect(laptop.jar.get('iam_rt')).toBeTruthy();
    const current = (await laptop.api.session.list.query()).find((session) => session.current);
    // A browser the account never used, from a script's user agent: the emailed code is the proof.
    expect(current).toMatchObject({ trusted: true, verdict: { outcome: 'challenged', reasons: ['new_device', 'bot'] } });
    const [audits] = await t.sql.query<RowDataPacket[]>("SELECT data FROM audit_events WHERE user_id = ? AND type = 'login.succeeded'", [
      user.userId,
    ]);
    const methods = audits.map((row) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data)?.method);
    expect(methods).toContain('email_code');

    // Single use.
    expect(
      await t
        .client()
        .api.auth.signInWithCode.mutate({ challengeId: request.challengeId, code: codeFrom(mail) })
        .catch(iamCodeOf),
    ).toBe('CODE_INVALID');
  });

  it('the link page shows one button and signs in only on its POST (mail scanners that prefetch consume nothing)', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await t.client().api.auth.requestSignIn.mutate({ email: user.email });
    const token = linkTokenFrom(await nextSignInMail(t, user.email, 0));
    const page = await send(`${t.url}/sign-in-link?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('method="post"');
    // The GET changed nothing: the token still works, once.
    const posted = await send(`${t.url}/sign-in-link`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(posted.status).toBe(200);
    expect(posted.text).toContain('You are signed in');
    expect(posted.headers.getSetCookie().some((cookie) => /^(__Host-)?iam_rt=/.test(cookie))).toBe(true);
    expect(await t.client().api.auth.signInWithLink.mutate({ token }).catch(iamCodeOf)).toBe('LINK_INVALID');
  });

  it('an unknown address gets the same answer and no mail; no code opens its challenge', async () => {
    await using t = await createTestServer();
    const { api } = t.client();
    const known = await t.signUp();
    const unknownAnswer = await api.auth.requestSignIn.mutate({ email: uniqueEmail('nobody') });
    const knownAnswer = await api.auth.requestSignIn.mutate({ email: known.email });
    expect(Object.keys(unknownAnswer).sort()).toEqual(Object.keys(knownAnswer).sort());
    expect(unknownAnswer).toEqual({ status: 'sent', challengeId: expect.stringMatching(/^chl_/) });
    await nextSignInMail(t, known.email, 0);
    expect(t.mail.messages.filter((message) => message.tags.template === 'login_code')).toHaveLength(1);
    for (const code of ['000000', '123456']) {
      expect(await api.auth.signInWithCode.mutate({ challengeId: unknownAnswer.challengeId, code }).catch(iamCodeOf)).toBe('CODE_INVALID');
    }
    // Resending it answers as for a real one (the same spacing first, then `sent`), and mails nothing.
    const mailsBefore = t.mail.messages.length;
    for (const challengeId of [unknownAnswer.challengeId, knownAnswer.challengeId]) {
      expect(await api.mfa.resend.mutate({ challengeId }).catch(iamCodeOf)).toBe('RATE_LIMITED');
    }
    t.clock.advance(11);
    expect(await api.mfa.resend.mutate({ challengeId: unknownAnswer.challengeId })).toEqual({ status: 'sent' });
    expect(await api.mfa.resend.mutate({ challengeId: knownAnswer.challengeId })).toEqual({ status: 'sent' });
    // Only the real one's new code goes out, to the account's own address and its own link page.
    const resent = await nextSignInMail(t, known.email, 1);
    expect(resent.text).toContain('/sign-in-link?token=');
    expect(t.mail.messages.length).toBe(mailsBefore + 1);
    const [users] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    expect(Number(users[0]?.n)).toBe(1);
  });

  it('mails to one address are capped quietly: 5 an hour, then one per network, the same answer every time', async () => {
    await using t = await createTestServer({ botCheck: { modes: { requestSignIn: 'off' } } });
    const user = await t.signUp();
    const { api } = t.client();
    for (let i = 0; i < 8; i++) expect((await api.auth.requestSignIn.mutate({ email: user.email })).status).toBe('sent');
    await nextSignInMail(t, user.email, 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(signInMails(t, user.email)).toHaveLength(6);
  });

  it('an enrolled authenticator is still asked for after the emailed code', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { secret } = await enrolTotp(user.api, t.clock.now());
    const device = t.client({ deviceOf: user.jar });
    const request = await device.api.auth.requestSignIn.mutate({ email: user.email });
    const mail = await nextSignInMail(t, user.email, 0);
    const challenge = await device.api.auth.signInWithCode.mutate({ challengeId: request.challengeId, code: codeFrom(mail) });
    expect(challenge).toMatchObject({ status: 'mfa_required', methods: ['totp', 'backup_code'], reasons: ['totp_enrolled'] });
    if (challenge.status !== 'mfa_required') return;
    t.clock.advance(30);
    const signedIn = authenticated(
      await device.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: totpCode(secret, t.clock.now()) }),
    );
    expect(signedIn.user.id).toBe(user.userId);
  });

  it('a first passwordless sign-in of an account that never verified its address verifies it, and drops the password someone else may have set', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('unverified');
    await t.client().api.auth.signup.mutate({ email, password: 'the squatter passphrase' });
    const { api } = t.client();
    const request = await api.auth.requestSignIn.mutate({ email });
    const mail = await nextSignInMail(t, email, 0);
    const signedIn = authenticated(await api.auth.signInWithCode.mutate({ challengeId: request.challengeId, code: codeFrom(mail) }));
    expect(signedIn.user.emailVerified).toBe(true);
    expect(await t.client().api.auth.login.mutate({ email, password: 'the squatter passphrase' }).catch(iamCodeOf)).toBe(
      'INVALID_CREDENTIALS',
    );
  });

  it('an account without a password adds one with a fresh step-up, once; an account with one is sent to changePassword', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('nopassword');
    await t.client().api.auth.signup.mutate({ email, password: 'the squatter passphrase' });
    const device = t.client();
    const request = await device.api.auth.requestSignIn.mutate({ email });
    authenticated(
      await device.api.auth.signInWithCode.mutate({ challengeId: request.challengeId, code: codeFrom(await nextSignInMail(t, email, 0)) }),
    );
    expect(await device.api.auth.setPassword.mutate({ newPassword: 'my very own passphrase' }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');

    const mailsBefore = t.mail.messages.length;
    const stepUp = await device.api.mfa.stepUp.begin.mutate({ action: 'password_set' });
    await t.mail.waitFor(() => t.mail.messages.length > mailsBefore);
    const code = codeFrom(t.mail.messages.at(-1) as never);
    const { stepUpToken } = await device.api.mfa.stepUp.verify.mutate({ challengeId: stepUp.challengeId, code });
    // A weak password is refused and the token survives for the next try.
    expect(await device.api.auth.setPassword.mutate({ newPassword: 'password1', stepUpToken }).catch(iamCodeOf)).toBe('PASSWORD_TOO_WEAK');
    expect(await device.api.auth.setPassword.mutate({ newPassword: 'my very own passphrase', stepUpToken })).toEqual({
      status: 'password_set',
    });
    authenticated(await t.client({ deviceOf: device.jar }).api.auth.login.mutate({ email, password: 'my very own passphrase' }));
    await t.mail.waitFor((message) => message.to.includes(email) && message.tags.template === 'password_changed');
    // Spent, and the account now has a password: both refused.
    expect(await device.api.auth.setPassword.mutate({ newPassword: 'another passphrase here', stepUpToken }).catch(iamCodeOf)).toBe(
      'INVALID_INPUT',
    );
    const withPassword = await t.signUp();
    expect(await withPassword.api.auth.setPassword.mutate({ newPassword: 'another passphrase here' }).catch(iamCodeOf)).toBe(
      'INVALID_INPUT',
    );
  });
});
