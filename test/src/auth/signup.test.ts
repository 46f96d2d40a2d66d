import { type CookieJar, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { errorOf, post } from '../harness/http';
import { codeFrom, createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';
import type { ReceivedEmail } from '../peers/resend';

async function usersWithEmail(t: TestServer, normalized: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    'SELECT id, email, email_normalized, email_verified_at, password_hash FROM users WHERE email_normalized = ?',
    [normalized],
  );
  return rows;
}

async function countUsers(t: TestServer): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
  return Number(rows[0]?.n);
}

function mailsTo(t: TestServer, email: string): ReceivedEmail[] {
  return t.mail.messages.filter((message) => message.to.includes(email));
}

/** Waits for the `count`-th message to an address and returns it. */
async function nthMailTo(t: TestServer, email: string, count: number): Promise<ReceivedEmail> {
  let seen = 0;
  return t.mail.waitFor((message) => message.to.includes(email) && ++seen === count);
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe('sign-up', () => {
  it('answers an already-registered, verified address with the same shape, notifies the owner and creates nothing', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { api } = t.client();
    const fresh = await api.auth.signup.mutate({ email: uniqueEmail('fresh'), password: 'a long enough passphrase' });

    const again = await api.auth.signup.mutate({ email: owner.email, password: 'the attacker passphrase' });
    expect(Object.keys(again).sort()).toEqual(Object.keys(fresh).sort());
    expect(again).toEqual({ status: 'verification_required', challengeId: expect.stringMatching(/^chl_[a-z0-9]+$/) });

    const notice = await nthMailTo(t, owner.email, 2);
    expect(notice.tags.template).toBe('already_registered');
    expect(notice.text ?? '').not.toMatch(/\b\d{6}\b/);
    expect(await usersWithEmail(t, owner.email)).toHaveLength(1);

    // The owner's password is untouched and no code opens the decoy challenge.
    const login = await t.client({ deviceOf: owner.jar }).api.auth.login.mutate({ email: owner.email, password: owner.password });
    expect(login.status).toBe('authenticated');
    await expect(t.client().api.auth.login.mutate({ email: owner.email, password: 'the attacker passphrase' })).rejects.toSatisfy((error) =>
      isIamError(error, 'INVALID_CREDENTIALS'),
    );
    for (const code of ['000000', '123456']) {
      await expect(api.auth.verifyEmail.mutate({ challengeId: again.challengeId, code })).rejects.toSatisfy((error) =>
        isIamError(error, 'CODE_INVALID'),
      );
    }
  });

  it('a resend of the answer for a verified address behaves as for a new one, and mails nothing', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { api } = t.client();
    const fresh = await api.auth.signup.mutate({ email: uniqueEmail('fresh'), password: 'a long enough passphrase' });
    const decoy = await api.auth.signup.mutate({ email: owner.email, password: 'the attacker passphrase' });
    await nthMailTo(t, owner.email, 2);
    const mailsToOwner = () => t.mail.messages.filter((message) => message.to.includes(owner.email)).length;
    const before = mailsToOwner();

    // Within the spacing both are refused alike; after it both are resent alike, up to the same budget.
    const tooSoon = async (challengeId: string) =>
      api.mfa.resend.mutate({ challengeId }).then(
        (result) => result.status,
        (error: unknown) => (isIamError(error) ? error.data.iamCode : 'other'),
      );
    expect(await tooSoon(decoy.challengeId)).toBe(await tooSoon(fresh.challengeId));
    const answers: Array<[string, string]> = [];
    for (let round = 0; round < 4; round++) {
      t.clock.advance(31);
      answers.push([await tooSoon(fresh.challengeId), await tooSoon(decoy.challengeId)]);
    }
    expect(answers).toEqual([
      ['sent', 'sent'],
      ['sent', 'sent'],
      ['sent', 'sent'],
      ['RATE_LIMITED', 'RATE_LIMITED'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mailsToOwner()).toBe(before);
  });

  it('a second sign-up of an unverified address sends a fresh code, and that code applies the new password', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('resignup');
    const { api, jar } = t.client();
    const first = await api.auth.signup.mutate({ email, password: 'the first passphrase' });
    const firstCode = codeFrom(await nthMailTo(t, email, 1));
    const second = await api.auth.signup.mutate({ email, password: 'the second passphrase' });
    const secondMail = await nthMailTo(t, email, 2);
    expect(secondMail.tags.template).toBe('verify_email');
    const secondCode = codeFrom(secondMail);
    expect(second.challengeId).not.toBe(first.challengeId);
    expect(await usersWithEmail(t, email)).toHaveLength(1);

    const verified = await api.auth.verifyEmail.mutate({ challengeId: second.challengeId, code: secondCode });
    expect(verified.user.emailVerified).toBe(true);

    const [user] = await usersWithEmail(t, email);
    expect(user?.email_verified_at).not.toBeNull();
    await expect(t.client({ deviceOf: jar }).api.auth.login.mutate({ email, password: 'the second passphrase' })).resolves.toMatchObject({
      status: 'authenticated',
    });
    await expect(t.client().api.auth.login.mutate({ email, password: 'the first passphrase' })).rejects.toSatisfy((error) =>
      isIamError(error, 'INVALID_CREDENTIALS'),
    );
    // The earlier pending sign-up died with the verification.
    await expect(t.client().api.auth.verifyEmail.mutate({ challengeId: first.challengeId, code: firstCode })).rejects.toSatisfy((error) =>
      isIamError(error, 'CODE_INVALID'),
    );
  });

  it('twenty parallel sign-ups of one address create exactly one user, and each gets the usual answer', async () => {
    // Limits raised so that all twenty reach the database at once.
    const roomy = { points: 1_000, durationInSeconds: 3600 };
    await using t = await createTestServer({ rateLimits: { signupPerIp: roomy, signupPerEmail: roomy } });
    const email = uniqueEmail('race');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) => t.client().api.auth.signup.mutate({ email, password: `parallel passphrase ${index}` })),
    );
    for (const outcome of outcomes) {
      expect(outcome.status === 'fulfilled' ? outcome.value : String(outcome.reason)).toEqual({
        status: 'verification_required',
        challengeId: expect.stringMatching(/^chl_/),
      });
    }
    expect(await usersWithEmail(t, email)).toHaveLength(1);
    const [challenges] = await t.sql.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM challenges c JOIN users u ON u.id = c.user_id WHERE u.email_normalized = ? AND c.purpose = 'verify_email'",
      [email],
    );
    expect(Number(challenges[0]?.n)).toBe(20);
    await t.mail.waitFor(() => mailsTo(t, email).length === 20);
  });

  it('caps the mails to one address quietly: 5 an hour, one more per network, the same answer past the cap, one account', async () => {
    await using t = await createTestServer({ rateLimits: { signupPerIp: { points: 100 } } });
    const email = uniqueEmail('limited');
    const { api } = t.client();
    for (let attempt = 0; attempt < 8; attempt++) {
      await expect(api.auth.signup.mutate({ email, password: `limited passphrase ${attempt}` })).resolves.toEqual({
        status: 'verification_required',
        challengeId: expect.stringMatching(/^chl_/),
      });
    }
    expect(await usersWithEmail(t, email)).toHaveLength(1);
    expect(mailsTo(t, email)).toHaveLength(6);
  });

  it('codes and links of pending sign-ups of one address presented at the same moment verify exactly once, never a 500', async () => {
    const roomy = { points: 1_000, durationInSeconds: 3600 };
    await using t = await createTestServer({
      rateLimits: { signupPerIp: roomy, signupPerEmail: roomy, codesPerIp: roomy, linksPerIp: roomy },
    });
    for (let round = 0; round < 8; round++) {
      const email = uniqueEmail(`verify-race${round}`);
      const { api, jar } = t.client();
      const first = await api.auth.signup.mutate({ email, password: 'the first passphrase' });
      const firstMail = await nthMailTo(t, email, 1);
      const second = await api.auth.signup.mutate({ email, password: 'the second passphrase' });
      const secondMail = await nthMailTo(t, email, 2);

      const attempts: Array<[string, Record<string, string>]> = [
        ['the first code', { challengeId: first.challengeId, code: codeFrom(firstMail) }],
        ['the second code', { challengeId: second.challengeId, code: codeFrom(secondMail) }],
        ['the second link', { token: linkTokenFrom(secondMail) }],
      ];
      const responses = await Promise.all(
        // From the browser that signed up, so each would apply its own pending password.
        attempts.map(([, input]) =>
          post(t.trpcUrl, 'auth.verifyEmail', JSON.stringify({ json: input }), { cookie: `iam_cid=${jar.get('iam_cid')}` }),
        ),
      );
      const outcomes = responses.map((response, index) => ({
        attempt: attempts[index]?.[0],
        status: response.status,
        iamCode: response.status === 200 ? null : errorOf(response).iamCode,
      }));
      const winners = outcomes.filter((outcome) => outcome.status === 200);
      expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
      for (const outcome of outcomes.filter((candidate) => candidate.status !== 200)) {
        expect(outcome).toMatchObject({ status: 400, iamCode: expect.stringMatching(/^(CODE_INVALID|LINK_INVALID)$/) });
      }

      const [user] = await usersWithEmail(t, email);
      expect(user?.email_verified_at).not.toBeNull();
      const [sessions] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [user?.id]);
      expect(Number(sessions[0]?.n)).toBe(1);
      const password = winners[0]?.attempt === 'the first code' ? 'the first passphrase' : 'the second passphrase';
      await expect(t.client().api.auth.login.mutate({ email, password })).resolves.toMatchObject({
        status: expect.stringMatching(/^(authenticated|mfa_required)$/),
      });
    }
  });

  it('reports MAIL_UNAVAILABLE with HTTP 503 when the mail API fails, and a retry then works', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('mailfail');
    const { api } = t.client();
    t.mail.failNext(1, 500);
    const error = await rejection(api.auth.signup.mutate({ email, password: 'a long enough passphrase' }));
    expect(isIamError(error, 'MAIL_UNAVAILABLE')).toBe(true);
    if (isIamError(error)) expect(error.data.httpStatus).toBe(503);
    expect(mailsTo(t, email)).toHaveLength(0);

    const retry = await api.auth.signup.mutate({ email, password: 'a long enough passphrase' });
    const verified = await api.auth.verifyEmail.mutate({ challengeId: retry.challengeId, code: codeFrom(await t.lastMailTo(email)) });
    expect(verified.status).toBe('authenticated');
    expect(await usersWithEmail(t, email)).toHaveLength(1);
  });

  it('five wrong codes exhaust the challenge: the fifth says CHALLENGE_EXHAUSTED and then even the right code fails', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('guess');
    const { api } = t.client();
    const { challengeId } = await api.auth.signup.mutate({ email, password: 'a long enough passphrase' });
    const code = codeFrom(await t.lastMailTo(email));
    const wrong = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((candidate) => candidate !== code).slice(0, 5);

    for (const [index, guess] of wrong.entries()) {
      const expected = index < 4 ? 'CODE_INVALID' : 'CHALLENGE_EXHAUSTED';
      await expect(api.auth.verifyEmail.mutate({ challengeId, code: guess })).rejects.toSatisfy((error) => isIamError(error, expected));
    }
    await expect(api.auth.verifyEmail.mutate({ challengeId, code })).rejects.toSatisfy((error) => isIamError(error, 'CHALLENGE_EXHAUSTED'));
    await expect(api.auth.verifyEmail.mutate({ token: linkTokenFrom(await t.lastMailTo(email)) })).rejects.toSatisfy((error) =>
      isIamError(error, 'LINK_INVALID'),
    );

    const [challenge] = (await t.sql.query<RowDataPacket[]>('SELECT attempts, consumed_at FROM challenges WHERE id = ?', [challengeId]))[0];
    expect(challenge).toMatchObject({ attempts: 5, consumed_at: null });
    const [user] = await usersWithEmail(t, email);
    expect(user?.email_verified_at).toBeNull();
  });

  it('a code for an expired challenge is CODE_INVALID and verifies nothing', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('expired');
    const { api } = t.client();
    const { challengeId } = await api.auth.signup.mutate({ email, password: 'a long enough passphrase' });
    const mail = await t.lastMailTo(email);
    t.clock.advance(11 * 60);
    await expect(api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(mail) })).rejects.toSatisfy((error) =>
      isIamError(error, 'CODE_INVALID'),
    );
    await expect(api.auth.verifyEmail.mutate({ token: linkTokenFrom(mail) })).rejects.toSatisfy((error) =>
      isIamError(error, 'LINK_INVALID'),
    );
    const [user] = await usersWithEmail(t, email);
    expect(user?.email_verified_at).toBeNull();
  });

  it('login of an unverified account with the right password answers verification_required and mails a working code', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('unverified');
    const password = 'a long enough passphrase';
    await t.client().api.auth.signup.mutate({ email, password });
    await nthMailTo(t, email, 1);

    const { api, jar } = t.client();
    await expect(api.auth.login.mutate({ email, password: 'a wrong passphrase' })).rejects.toSatisfy((error) =>
      isIamError(error, 'INVALID_CREDENTIALS'),
    );
    expect(mailsTo(t, email)).toHaveLength(1);

    const login = await api.auth.login.mutate({ email, password });
    expect(login).toEqual({ status: 'verification_required', challengeId: expect.stringMatching(/^chl_/) });
    expect(jar.get('iam_rt')).toBeUndefined();
    const mail = await nthMailTo(t, email, 2);
    expect(mail.tags.template).toBe('verify_email');
    if (login.status !== 'verification_required') throw new Error('unexpected login result');
    const verified = await api.auth.verifyEmail.mutate({ challengeId: login.challengeId, code: codeFrom(mail) });
    expect(verified.status).toBe('authenticated');
    await expect(api.auth.login.mutate({ email, password })).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('treats addresses case-insensitively: Foo@Example.com signs up, foo@example.com signs in, no second account', async () => {
    await using t = await createTestServer();
    const suffix = uniqueEmail('');
    const typed = `Foo${suffix.replace('@example.com', '@Example.com')}`;
    const lower = typed.toLowerCase();
    const password = 'a long enough passphrase';
    const { api, jar } = t.client();
    const { challengeId } = await api.auth.signup.mutate({ email: typed, password });
    await api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(await t.lastMailTo(typed)) });

    const login = await t.client({ deviceOf: jar }).api.auth.login.mutate({ email: lower, password });
    expect(login.status).toBe('authenticated');
    const rows = await usersWithEmail(t, lower);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: typed, email_normalized: lower });

    await t.client().api.auth.signup.mutate({ email: typed.toUpperCase(), password: 'another passphrase' });
    expect(await countUsers(t)).toBe(1);
  });

  it('keeps josé@… and jose@… as two distinct accounts', async () => {
    await using t = await createTestServer();
    const local = `jose.${Date.now()}`;
    const plain = `${local}@example.com`;
    const accented = `${local.replace('jose', 'josé')}@example.com`;

    const accounts: Array<{ email: string; password: string; id: string; jar: CookieJar }> = [];
    for (const [email, password] of [
      [plain, 'the plain passphrase'],
      [accented, 'the accented passphrase'],
    ] as const) {
      const { api, jar } = t.client();
      const { challengeId } = await api.auth.signup.mutate({ email, password });
      const mail = await t.lastMailTo(email);
      expect(mail.tags.template).toBe('verify_email');
      const verified = await api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(mail) });
      accounts.push({ email, password, id: verified.user.id, jar });
    }
    expect(accounts[0]?.id).not.toBe(accounts[1]?.id);
    expect(await countUsers(t)).toBe(2);

    await expect(
      t.client({ deviceOf: accounts[1]?.jar }).api.auth.login.mutate({ email: plain, password: 'the accented passphrase' }),
    ).rejects.toSatisfy((error) => isIamError(error, 'INVALID_CREDENTIALS'));
    const signedIn = await t
      .client({ deviceOf: accounts[1]?.jar })
      .api.auth.login.mutate({ email: accented, password: 'the accented passphrase' });
    if (signedIn.status !== 'authenticated') throw new Error('expected a sign-in');
    expect(signedIn.user.id).toBe(accounts[1]?.id);
    // The same address in decomposed form (e + U+0301) is the same account, not a third one.
    const decomposed = accented.normalize('NFD');
    expect(decomposed).not.toBe(accented);
    const again = await t
      .client({ deviceOf: accounts[1]?.jar })
      .api.auth.login.mutate({ email: decomposed, password: 'the accented passphrase' });
    if (again.status !== 'authenticated') throw new Error('expected a sign-in');
    expect(again.user.id).toBe(accounts[1]?.id);
  });
});

describe('a sign-up verified from another browser (pre-hijack)', () => {
  it('never makes the password of whoever signed up valid: the verifier sets their own, and every pending password dies', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('prehijack');
    // The attacker signs up with the victim's address and a password of the attacker's, twice
    // (sign-up and an unverified login both leave a pending credential).
    const attacker = t.client();
    await attacker.api.auth.signup.mutate({ email, password: 'the attacker passphrase' });
    await expect(attacker.api.auth.login.mutate({ email, password: 'the attacker passphrase' })).resolves.toMatchObject({
      status: 'verification_required',
    });
    const mail = await t.lastMailTo(email);

    // The victim follows the link in their own browser: the address is theirs, the password is not.
    const victim = t.client();
    const token = linkTokenFrom(mail);
    await expect(victim.api.auth.verifyEmail.mutate({ token })).rejects.toSatisfy((error) => isIamError(error, 'PASSWORD_REQUIRED'));
    // Nothing changed yet: the address is unverified and the link still works.
    const [pending] = await usersWithEmail(t, email);
    expect(pending?.email_verified_at).toBeNull();

    // A password refused by the policy is a clear error and changes nothing either.
    await expect(victim.api.auth.verifyEmail.mutate({ token, password: 'short' })).rejects.toSatisfy((error) => isIamError(error));
    const verified = await victim.api.auth.verifyEmail.mutate({ token, password: 'the victim passphrase' });
    expect(verified).toMatchObject({ status: 'authenticated', user: { email, emailVerified: true } });

    const [user] = await usersWithEmail(t, email);
    expect(user?.email_verified_at).not.toBeNull();
    await expect(t.client().api.auth.login.mutate({ email, password: 'the attacker passphrase' })).rejects.toSatisfy((error) =>
      isIamError(error, 'INVALID_CREDENTIALS'),
    );
    await expect(
      t.client({ deviceOf: victim.jar }).api.auth.login.mutate({ email, password: 'the victim passphrase' }),
    ).resolves.toMatchObject({ status: 'authenticated' });
    // The attacker's own browser holds no session and no pending verification opens any more.
    await expect(attacker.api.session.refresh.mutate()).rejects.toSatisfy((error) => isIamError(error));
    const [open] = await t.sql.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM challenges WHERE user_id = ? AND purpose = 'verify_email' AND consumed_at IS NULL",
      [user?.id],
    );
    expect(Number(open[0]?.n)).toBe(0);
  });

  it('a code typed in another browser than the sign-up also asks for the verifier’s own password', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('prehijack-code');
    const { challengeId } = await t.client().api.auth.signup.mutate({ email, password: 'the attacker passphrase' });
    const code = codeFrom(await t.lastMailTo(email));
    const other = t.client();
    await expect(other.api.auth.verifyEmail.mutate({ challengeId, code })).rejects.toSatisfy((error) =>
      isIamError(error, 'PASSWORD_REQUIRED'),
    );
    const verified = await other.api.auth.verifyEmail.mutate({ challengeId, code, password: 'the verifier passphrase' });
    expect(verified.status).toBe('authenticated');
    await expect(t.client().api.auth.login.mutate({ email, password: 'the attacker passphrase' })).rejects.toSatisfy((error) =>
      isIamError(error, 'INVALID_CREDENTIALS'),
    );
  });

  it('the browser that signed up verifies by code or link as before, with the password it chose', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('same-browser');
    const { api, jar } = t.client();
    await api.auth.signup.mutate({ email, password: 'my own passphrase' });
    const verified = await api.auth.verifyEmail.mutate({ token: linkTokenFrom(await t.lastMailTo(email)) });
    expect(verified.status).toBe('authenticated');
    await expect(t.client({ deviceOf: jar }).api.auth.login.mutate({ email, password: 'my own passphrase' })).resolves.toMatchObject({
      status: 'authenticated',
    });
  });

  it('the link page asks for a password when opened in another browser, and signs in after it is set', async () => {
    await using t = await createTestServer();
    const email = uniqueEmail('prehijack-page');
    await t.client().api.auth.signup.mutate({ email, password: 'the attacker passphrase' });
    const token = linkTokenFrom(await t.lastMailTo(email));
    const form = (fields: Record<string, string>) =>
      fetch(`${t.url}/verify-email`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.url },
        body: new URLSearchParams(fields).toString(),
      });
    const asked = await form({ token });
    expect(asked.status).toBe(200);
    const page = await asked.text();
    expect(page).toContain('name="password"');
    expect((await usersWithEmail(t, email))[0]?.email_verified_at).toBeNull();
    const done = await form({ token, password: 'the verifier passphrase' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('signed in');
    expect((await usersWithEmail(t, email))[0]?.email_verified_at).not.toBeNull();
  });
});
