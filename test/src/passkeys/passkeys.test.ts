import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, createTestServer, type TestServer } from '../harness/server';
import { enrolTotp } from '../harness/totp';
import { type Ceremony, createSoftwareAuthenticator, type SoftwareAuthenticator } from '../harness/webauthn';

type Device = ReturnType<TestServer['client']>;

function ceremonyOf(t: TestServer, overrides: Partial<Ceremony> = {}): Ceremony {
  return { origin: t.url, rpId: new URL(t.url).hostname, ...overrides };
}

/** Registers a passkey for the signed-in device through the real ceremony. */
async function registerPasskey(t: TestServer, device: Device, authenticator: SoftwareAuthenticator, name = 'Laptop') {
  const options = await device.api.passkey.registrationOptions.mutate();
  expect(options).toMatchObject({
    rp: { id: new URL(t.url).hostname },
    attestation: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const response = authenticator.register(options, ceremonyOf(t));
  return device.api.passkey.register.mutate({ response: response as never, name });
}

async function signInWithPasskey(device: Device, authenticator: SoftwareAuthenticator, ceremony: Ceremony & { counter?: number }) {
  const options = await device.api.passkey.authenticationOptions.mutate();
  expect(options.allowCredentials ?? []).toEqual([]);
  const response = authenticator.assert(options, ceremony);
  return { options, response, result: device.api.passkey.signIn.mutate({ ceremonyId: options.ceremonyId, response: response as never }) };
}

describe('passkeys with a software authenticator (ES256, real CBOR)', () => {
  it('registers on a fresh sign-in, signs in discoverably on the same browser, lists it, and mails the owner', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const authenticator = createSoftwareAuthenticator();
    const added = await registerPasskey(t, user, authenticator);
    expect(added).toEqual({ id: expect.stringMatching(/^pky_/), name: 'Laptop', createdAt: expect.any(Date) });
    expect((await user.api.auth.me.query()).mfa).toEqual({ totp: false, passkeys: 1 });
    // The same credential again is refused (excludeCredentials would have told the browser).
    expect(await registerPasskey(t, user, authenticator).catch(iamCodeOf)).toBe('PASSKEY_INVALID');
    expect((await user.api.auth.me.query()).mfa.passkeys).toBe(1);
    await t.mail.waitFor((message) => message.to.includes(user.email) && /passkey was added/i.test(message.subject));

    // Later, on the same browser, without a password: the authenticator names the account.
    const browser = t.client({ deviceOf: user.jar });
    const { result } = await signInWithPasskey(browser, authenticator, ceremonyOf(t));
    const signedIn = authenticated(await result);
    expect(signedIn.user.id).toBe(user.userId);
    expect(await browser.api.passkey.list.query()).toEqual([
      expect.objectContaining({ id: added.id, name: 'Laptop', backedUp: true, deviceType: 'multiDevice', lastUsedAt: expect.any(Date) }),
    ]);
    expect(await browser.api.passkey.rename.mutate({ id: added.id, name: 'Work laptop' })).toEqual({ status: 'renamed' });
    const [audits] = await t.sql.query<RowDataPacket[]>(
      "SELECT type, data FROM audit_events WHERE user_id = ? AND type IN ('passkey.added', 'login.succeeded')",
      [user.userId],
    );
    expect(audits.map((row) => row.type)).toEqual(expect.arrayContaining(['passkey.added', 'login.succeeded']));
  });

  it('a passkey sign-in from a browser the account never used goes through the sign-in checks', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const authenticator = createSoftwareAuthenticator();
    await registerPasskey(t, user, authenticator);
    const elsewhere = t.client();
    const { result } = await signInWithPasskey(elsewhere, authenticator, ceremonyOf(t));
    expect(await result).toMatchObject({ status: 'mfa_required', methods: ['email_otp'], reasons: expect.arrayContaining(['new_device']) });
    expect(elsewhere.jar.get('iam_rt')).toBeUndefined();
  });

  it('refuses with PASSKEY_INVALID, changing nothing: a wrong origin, a wrong RP ID, no user verification, a replay, another browser', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const authenticator = createSoftwareAuthenticator();
    await registerPasskey(t, user, authenticator);
    const browser = t.client({ deviceOf: user.jar });
    const sessionsBefore = await countRows(t, 'sessions');

    for (const ceremony of [
      ceremonyOf(t, { origin: 'https://evil.example' }),
      ceremonyOf(t, { rpId: 'evil.example' }),
      ceremonyOf(t, { userVerified: false }),
    ]) {
      const { result } = await signInWithPasskey(browser, authenticator, ceremony);
      expect(await result.catch(iamCodeOf)).toBe('PASSKEY_INVALID');
    }

    // A good assertion works once; replayed with its ceremony it is refused.
    const { options, response, result } = await signInWithPasskey(browser, authenticator, ceremonyOf(t));
    authenticated(await result);
    expect(await browser.api.passkey.signIn.mutate({ ceremonyId: options.ceremonyId, response: response as never }).catch(iamCodeOf)).toBe(
      'PASSKEY_INVALID',
    );

    // A ceremony started by one browser cannot be finished by another.
    const started = await browser.api.passkey.authenticationOptions.mutate();
    const other = t.client();
    const stolen = authenticator.assert(started, ceremonyOf(t));
    expect(await other.api.passkey.signIn.mutate({ ceremonyId: started.ceremonyId, response: stolen as never }).catch(iamCodeOf)).toBe(
      'PASSKEY_INVALID',
    );
    expect(await countRows(t, 'sessions')).toBe(sessionsBefore + 1);
  });

  it('a signature counter that goes backwards is refused and mailed to the owner as a possible copy', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const authenticator = createSoftwareAuthenticator();
    await registerPasskey(t, user, authenticator);
    const browser = t.client({ deviceOf: user.jar });
    authenticated(await (await signInWithPasskey(browser, authenticator, ceremonyOf(t, { counter: 10 } as never))).result);
    const { result } = await signInWithPasskey(browser, authenticator, { ...ceremonyOf(t), counter: 5 });
    expect(await result.catch(iamCodeOf)).toBe('PASSKEY_INVALID');
    await t.mail.waitFor((message) => message.to.includes(user.email) && /may have been copied/i.test(message.subject));
  });

  it('registering after the first 5 minutes of a session needs a step-up; removing always does, and the last way in stays', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    t.clock.advance(6 * 60);
    expect(await user.api.passkey.registrationOptions.mutate().catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    const stepUpFor = async (action: string) => {
      const before = t.mail.messages.length;
      const challenge = await user.api.mfa.stepUp.begin.mutate({ action });
      await t.mail.waitFor(() => t.mail.messages.length > before);
      const code = codeFrom(t.mail.messages.at(-1) as never);
      return (await user.api.mfa.stepUp.verify.mutate({ challengeId: challenge.challengeId, code })).stepUpToken;
    };
    const authenticator = createSoftwareAuthenticator();
    const options = await user.api.passkey.registrationOptions.mutate({ stepUpToken: await stepUpFor('passkey_add') });
    const added = await user.api.passkey.register.mutate({ response: authenticator.register(options, ceremonyOf(t)) as never });

    expect(await user.api.passkey.remove.mutate({ id: added.id }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    expect(await user.api.passkey.remove.mutate({ id: added.id, stepUpToken: await stepUpFor('passkey_remove') })).toEqual({
      status: 'removed',
    });
    expect(await user.api.passkey.list.query()).toEqual([]);
    expect((await user.api.auth.me.query()).mfa.passkeys).toBe(0);

    // An account whose only way in is its passkey keeps it.
    await t.sql.query('UPDATE users SET password_hash = NULL WHERE id = ?', [user.userId]);
    const only = await user.api.passkey.register.mutate({
      response: createSoftwareAuthenticator().register(
        await user.api.passkey.registrationOptions.mutate({ stepUpToken: await stepUpFor('passkey_add') }),
        ceremonyOf(t),
      ) as never,
    });
    expect(await user.api.passkey.remove.mutate({ id: only.id, stepUpToken: await stepUpFor('passkey_remove') }).catch(iamCodeOf)).toBe(
      'LAST_SIGN_IN_METHOD',
    );
  });
});

describe('a passkey answers challenges: second factor and step-up', () => {
  it('answers the sign-in challenge of a password sign-in from a new browser (mfa.verify), only with the account’s own passkey', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mine = createSoftwareAuthenticator();
    await registerPasskey(t, user, mine);
    const elsewhere = t.client();
    const challenge = await elsewhere.api.auth.login.mutate({ email: user.email, password: user.password });
    if (challenge.status !== 'mfa_required') throw new Error(challenge.status);
    expect(challenge.methods).toEqual(['email_otp', 'passkey']);

    const options = await elsewhere.api.passkey.authenticationOptions.mutate({ challengeId: challenge.challengeId });
    // The challenge names the account: only its passkeys are offered.
    expect(options.allowCredentials).toEqual([expect.objectContaining({ id: mine.credentialId.toString('base64url') })]);

    // Another account's passkey, in a ceremony for this challenge, is refused and changes nothing.
    const stranger = await t.signUp();
    const theirs = createSoftwareAuthenticator();
    await registerPasskey(t, stranger, theirs);
    const wrong = theirs.assert(options, ceremonyOf(t));
    expect(
      await elsewhere.api.mfa.verify
        .mutate({ challengeId: challenge.challengeId, passkey: { ceremonyId: options.ceremonyId, response: wrong as never } })
        .catch(iamCodeOf),
    ).toBe('PASSKEY_INVALID');
    expect(elsewhere.jar.get('iam_rt')).toBeUndefined();

    // A ceremony opened for a sign-in does not answer a challenge.
    const signInCeremony = await elsewhere.api.passkey.authenticationOptions.mutate();
    expect(
      await elsewhere.api.mfa.verify
        .mutate({
          challengeId: challenge.challengeId,
          passkey: { ceremonyId: signInCeremony.ceremonyId, response: mine.assert(signInCeremony, ceremonyOf(t)) as never },
        })
        .catch(iamCodeOf),
    ).toBe('PASSKEY_INVALID');

    const again = await elsewhere.api.passkey.authenticationOptions.mutate({ challengeId: challenge.challengeId });
    const answer = { ceremonyId: again.ceremonyId, response: mine.assert(again, ceremonyOf(t)) as never };
    const signedIn = authenticated(await elsewhere.api.mfa.verify.mutate({ challengeId: challenge.challengeId, passkey: answer }));
    expect(signedIn.user.id).toBe(user.userId);
    expect(elsewhere.jar.get('iam_rt')).toBeTruthy();
    // Single use: the challenge and the ceremony are spent.
    expect(await elsewhere.api.mfa.verify.mutate({ challengeId: challenge.challengeId, passkey: answer }).catch(iamCodeOf)).toMatch(
      /^(PASSKEY_INVALID|CHALLENGE_INVALID)$/,
    );
    const [passed] = await t.sql.query<RowDataPacket[]>('SELECT consumed_at FROM challenges WHERE id = ?', [challenge.challengeId]);
    expect(passed[0]?.consumed_at).not.toBeNull();
  });

  it('is a second factor after a password for an account with an authenticator app too, and a challenge without it refuses a passkey', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mine = createSoftwareAuthenticator();
    await registerPasskey(t, user, mine);
    await enrolTotp(user.api, t.clock.now());
    const browser = t.client({ deviceOf: user.jar });
    const challenge = await browser.api.auth.login.mutate({ email: user.email, password: user.password });
    if (challenge.status !== 'mfa_required') throw new Error(challenge.status);
    expect(challenge.methods).toEqual(['totp', 'backup_code', 'passkey']);
    const options = await browser.api.passkey.authenticationOptions.mutate({ challengeId: challenge.challengeId });
    const signedIn = authenticated(
      await browser.api.mfa.verify.mutate({
        challengeId: challenge.challengeId,
        passkey: { ceremonyId: options.ceremonyId, response: mine.assert(options, ceremonyOf(t)) as never },
      }),
    );
    expect(signedIn.user.mfa).toEqual({ totp: true, passkeys: 1 });

    // A passkey sign-in judged risky is not offered a passkey again (it just used one).
    const elsewhere = t.client();
    const { result } = await signInWithPasskey(elsewhere, mine, ceremonyOf(t));
    const risky = await result;
    if (risky.status !== 'mfa_required') throw new Error(risky.status);
    expect(risky.methods).not.toContain('passkey');
    expect(await elsewhere.api.passkey.authenticationOptions.mutate({ challengeId: risky.challengeId }).catch(iamCodeOf)).toBe(
      'CHALLENGE_INVALID',
    );
  });

  it('is a step-up method: mfa.stepUp.verify takes a passkey of the account for this session’s challenge', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mine = createSoftwareAuthenticator();
    await registerPasskey(t, user, mine);
    const challenge = await user.api.mfa.stepUp.begin.mutate({ action: 'email_change' });
    expect(challenge.methods).toEqual(['email_otp', 'passkey']);
    const options = await user.api.passkey.authenticationOptions.mutate({ challengeId: challenge.challengeId });
    const { stepUpToken } = await user.api.mfa.stepUp.verify.mutate({
      challengeId: challenge.challengeId,
      passkey: { ceremonyId: options.ceremonyId, response: mine.assert(options, ceremonyOf(t)) as never },
    });
    expect(stepUpToken).toBeTruthy();
    await expect(user.api.auth.requestEmailChange.mutate({ newEmail: `moved-${user.email}`, stepUpToken })).resolves.toEqual({
      status: 'sent',
    });
    const [audit] = await t.sql.query<RowDataPacket[]>(
      "SELECT data FROM audit_events WHERE user_id = ? AND type = 'mfa.step_up_verified'",
      [user.userId],
    );
    expect(audit[0]?.data).toMatchObject({ method: 'passkey', action: 'email_change' });

    // Another session of the same account cannot answer this session's step-up.
    const next = await user.api.mfa.stepUp.begin.mutate({ action: 'email_change' });
    const other = await t.signInOn(t.client({ deviceOf: user.jar }), user);
    const otherOptions = await other.api.passkey.authenticationOptions.mutate({ challengeId: next.challengeId });
    expect(
      await other.api.mfa.stepUp.verify
        .mutate({
          challengeId: next.challengeId,
          passkey: { ceremonyId: otherOptions.ceremonyId, response: mine.assert(otherOptions, ceremonyOf(t)) as never },
        })
        .catch(iamCodeOf),
    ).toBe('CHALLENGE_INVALID');
  });
});

async function countRows(t: TestServer, table: string): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(rows[0]?.n);
}
