import { type IamClient, iamCodeOf, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { codeFrom, createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A step-up for `email_change` through the emailed code (the account has no TOTP). */
async function stepUpToken(t: TestServer, api: IamClient, email: string): Promise<string> {
  const before = t.mail.messages.length;
  const { challengeId } = await api.mfa.stepUp.begin.mutate({ action: 'email_change' });
  const mail = await t.mail.waitFor(
    (message) => t.mail.messages.indexOf(message) >= before && message.to.includes(email) && message.tags.template === 'login_code',
  );
  return (await api.mfa.stepUp.verify.mutate({ challengeId, code: codeFrom(mail) })).stepUpToken;
}

async function liveSessions(t: TestServer, userId: string): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [
    userId,
  ]);
  return Number(rows[0]?.n);
}

describe('email change', () => {
  it('links the new address, notifies the old one, and once confirmed changes the address and ends every session', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const laptop = t.client({ deviceOf: user.jar });
    expect((await laptop.api.auth.login.mutate({ email: user.email, password: user.password })).status).toBe('authenticated');
    const newEmail = uniqueEmail('moved');

    const token = await stepUpToken(t, user.api, user.email);
    await expect(user.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken: token })).resolves.toEqual({ status: 'sent' });

    const linkMail = await t.mail.waitFor((message) => message.to.includes(newEmail) && message.tags.template === 'email_change_new');
    expect(linkMail.text).toContain(`${t.url}/confirm-email-change?token=`);
    const notice = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'email_change_old');
    expect(notice.text).toContain(`${newEmail[0]}•••@example.com`);
    expect(notice.text).not.toContain(newEmail);
    // Nothing changes before the new address is confirmed.
    expect((await user.api.auth.me.query()).email).toBe(user.email);
    const [links] = await t.sql.query<RowDataPacket[]>(
      "SELECT token_hash, expires_at, created_at FROM links WHERE user_id = ? AND purpose = 'email_change'",
      [user.userId],
    );
    expect(links).toHaveLength(1);
    const linkToken = linkTokenFrom(linkMail);
    expect(String(links[0]?.token_hash)).not.toContain(linkToken);
    expect(new Date(links[0]?.expires_at).getTime() - new Date(links[0]?.created_at).getTime()).toBeLessThanOrEqual(30 * 60_000);

    const { api } = t.client();
    await expect(api.auth.confirmEmailChange.mutate({ token: linkToken })).resolves.toEqual({ status: 'email_changed' });
    expect(await api.auth.confirmEmailChange.mutate({ token: linkToken }).catch(iamCodeOf)).toBe('LINK_INVALID');

    // Every session ended, this one included.
    for (const device of [user.api, laptop.api]) {
      await expect(device.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'SESSION_REVOKED'));
    }
    expect(await liveSessions(t, user.userId)).toBe(0);

    // The new address signs in, verified; the old one is no longer an account.
    expect(await t.client().api.auth.login.mutate({ email: user.email, password: user.password }).catch(iamCodeOf)).toBe(
      'INVALID_CREDENTIALS',
    );
    const signedIn = await t
      .client({ deviceOf: user.jar })
      .api.auth.login.mutate({ email: newEmail.toUpperCase(), password: user.password });
    if (signedIn.status !== 'authenticated') throw new Error(signedIn.status);
    expect(signedIn.user).toMatchObject({ id: user.userId, email: newEmail, emailVerified: true });

    const [audits] = await t.sql.query<RowDataPacket[]>(
      "SELECT type FROM audit_events WHERE user_id = ? AND type LIKE 'user.email_change%' ORDER BY created_at",
      [user.userId],
    );
    expect(audits.map((row) => row.type)).toEqual(['user.email_change_requested', 'user.email_changed']);
  });

  it('an address that belongs to another account gets the same answer, and nothing is sent to it', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const user = await t.signUp();
    const ownerMailsBefore = t.mail.messages.filter((message) => message.to.includes(owner.email)).length;

    const token = await stepUpToken(t, user.api, user.email);
    await expect(user.api.auth.requestEmailChange.mutate({ newEmail: owner.email.toUpperCase(), stepUpToken: token })).resolves.toEqual({
      status: 'sent',
    });
    // The requester's own address hears about it as for any change.
    await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'email_change_old');
    await pause(200);
    expect(t.mail.messages.filter((message) => message.to.includes(owner.email))).toHaveLength(ownerMailsBefore);
    const [links] = await t.sql.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM links WHERE purpose = 'email_change'");
    expect(Number(links[0]?.n)).toBe(0);
    // The step-up was spent all the same.
    expect(await user.api.auth.requestEmailChange.mutate({ newEmail: uniqueEmail('x'), stepUpToken: token }).catch(iamCodeOf)).toBe(
      'STEP_UP_REQUIRED',
    );
    expect((await owner.api.auth.me.query()).email).toBe(owner.email);
  });

  it('needs a step-up; a refused address keeps the token, so it can be corrected', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const newEmail = uniqueEmail('moved');
    expect(await user.api.auth.requestEmailChange.mutate({ newEmail }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    expect(await user.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken: 'x'.repeat(43) }).catch(iamCodeOf)).toBe(
      'STEP_UP_REQUIRED',
    );
    expect(await t.client().api.auth.requestEmailChange.mutate({ newEmail }).catch(iamCodeOf)).toBe('UNAUTHENTICATED');

    const token = await stepUpToken(t, user.api, user.email);
    expect(await user.api.auth.requestEmailChange.mutate({ newEmail: 'someone@mailinator.com', stepUpToken: token }).catch(iamCodeOf)).toBe(
      'EMAIL_DISPOSABLE',
    );
    expect(await user.api.auth.requestEmailChange.mutate({ newEmail: user.email, stepUpToken: token }).catch(iamCodeOf)).toBe(
      'INVALID_INPUT',
    );
    await expect(user.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken: token })).resolves.toEqual({ status: 'sent' });
  });

  it('a link is refused once the address was taken meanwhile, once a newer request replaced it, and once expired', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const linkFor = async (newEmail: string) => {
      await user.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken: await stepUpToken(t, user.api, user.email) });
      return linkTokenFrom(
        await t.mail.waitFor((message) => message.to.includes(newEmail) && message.tags.template === 'email_change_new'),
      );
    };
    const confirm = (token: string) => t.client().api.auth.confirmEmailChange.mutate({ token }).catch(iamCodeOf);

    // Taken by a sign-up between the request and the confirmation.
    const contested = uniqueEmail('contested');
    const contestedLink = await linkFor(contested);
    await t.client().api.auth.signup.mutate({ email: contested, password: 'somebody else entirely' });
    expect(await confirm(contestedLink)).toBe('LINK_INVALID');

    // Replaced by a newer request.
    const older = await linkFor(uniqueEmail('older'));
    const newer = await linkFor(uniqueEmail('newer'));
    expect(await confirm(older)).toBe('LINK_INVALID');

    // Expired (links live at most 30 minutes).
    t.clock.advance(31 * 60);
    expect(await confirm(newer)).toBe('LINK_INVALID');

    expect((await user.api.auth.me.query()).email).toBe(user.email);
    expect(await liveSessions(t, user.userId)).toBe(1);
  });
});
