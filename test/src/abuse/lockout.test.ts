import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';

/** Fifty attacking addresses in five networks (/24), and the victim's own address elsewhere. */
const attackers = Array.from({ length: 50 }, (_, index) => `198.51.${100 + Math.floor(index / 10)}.${10 + (index % 10)}`);
const attackerNetworks = 5;
const home = '81.2.69.142';
const phone = '92.40.1.1';

function from(t: TestServer, ip: string) {
  return t.client({ headers: { 'x-forwarded-for': ip } });
}

/** Runs the calls ten at a time, as a script with a handful of connections would. */
async function flood<T>(calls: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < calls.length; start += 10) {
    results.push(...(await Promise.all(calls.slice(start, start + 10).map((call) => call()))));
  }
  return results;
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    (value) => value,
    (error: unknown) => iamCodeOf(error) ?? 'network',
  );

/** Mails to an address, whatever its case (the account keeps the case it was first given). */
function mailsTo(t: TestServer, email: string, template: string) {
  return t.mail.messages.filter(
    (message) => message.to.some((to) => to.toLowerCase() === email.toLowerCase()) && message.tags.template === template,
  );
}

describe('no flood by others locks the owner of an address out', () => {
  it('sign-ups: 50 addresses sign up the victim with their passwords; all get the usual answer, the mailbox gets a few, and the victim still signs up with their own password', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const victim = uniqueEmail('victim');
    const answers = await flood(
      attackers.map(
        (ip, index) => () =>
          settle(
            from(t, ip).api.auth.signup.mutate({ email: index % 2 ? victim.toUpperCase() : victim, password: 'the attacker passphrase' }),
          ),
      ),
    );
    expect(answers.filter((answer) => (answer as { status?: string }).status !== 'verification_required')).toEqual([]);
    // The address's 5 an hour, and at most one more for each attacking network.
    expect(mailsTo(t, victim, 'verify_email').length).toBeLessThanOrEqual(5 + attackerNetworks);

    const before = mailsTo(t, victim, 'verify_email').length;
    const own = from(t, home);
    const signup = await own.api.auth.signup.mutate({ email: victim, password: 'the victim passphrase' });
    await t.mail.waitFor(() => mailsTo(t, victim, 'verify_email').length > before);
    const code = codeFrom(mailsTo(t, victim, 'verify_email').at(-1) as never);
    const verified = authenticated(await own.api.auth.verifyEmail.mutate({ challengeId: signup.challengeId, code }));
    // The address is spelled as its owner typed it when verifying, not as the first sign-up did.
    expect(verified.user.email).toBe(victim);

    // The victim's password is the one set; the attacker's opens nothing.
    authenticated(
      await t
        .client({ deviceOf: own.jar, headers: { 'x-forwarded-for': home } })
        .api.auth.login.mutate({ email: victim, password: 'the victim passphrase' }),
    );
    expect(await settle(from(t, attackers[0] ?? '').api.auth.login.mutate({ email: victim, password: 'the attacker passphrase' }))).toBe(
      'INVALID_CREDENTIALS',
    );
    const [users] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE email = ?', [victim]);
    expect(Number(users[0]?.n)).toBe(1);
  });

  it("resets: 50 addresses ask for the victim's reset; the victim's own device, and a network of theirs, still get a link that works", async () => {
    await using t = await createTestServer({ trustProxy: true });
    const email = uniqueEmail('victim');
    const own = from(t, home);
    const { challengeId } = await own.api.auth.signup.mutate({ email, password: 'the first passphrase' });
    authenticated(await own.api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(await t.lastMailTo(email)) }));

    const answers = await flood(attackers.map((ip) => () => settle(from(t, ip).api.auth.requestPasswordReset.mutate({ email }))));
    expect(answers.filter((answer) => (answer as { status?: string }).status !== 'sent')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const flooded = mailsTo(t, email, 'password_reset').length;
    expect(flooded).toBeLessThanOrEqual(3 + attackerNetworks);

    // The device that signed in to the account has a budget of its own.
    const laptop = t.client({ deviceOf: own.jar, headers: { 'x-forwarded-for': home } });
    expect(await laptop.api.auth.requestPasswordReset.mutate({ email })).toEqual({ status: 'sent' });
    await t.mail.waitFor(() => mailsTo(t, email, 'password_reset').length > flooded);
    const token = linkTokenFrom(mailsTo(t, email, 'password_reset').at(-1) as never);
    expect(await laptop.api.auth.resetPassword.mutate({ token, password: 'the victim passphrase' })).toEqual({ status: 'password_reset' });

    // A phone on a network of its own gets one too.
    const afterLaptop = mailsTo(t, email, 'password_reset').length;
    expect(await from(t, phone).api.auth.requestPasswordReset.mutate({ email })).toEqual({ status: 'sent' });
    await t.mail.waitFor(() => mailsTo(t, email, 'password_reset').length > afterLaptop);
  });

  it("wrong passwords: 50 addresses guess the victim's password; the victim signs in with the right one, through a challenge at most", async () => {
    await using t = await createTestServer({ trustProxy: true });
    const email = uniqueEmail('victim');
    const password = 'the victim passphrase';
    const own = from(t, home);
    const { challengeId } = await own.api.auth.signup.mutate({ email, password });
    authenticated(await own.api.auth.verifyEmail.mutate({ challengeId, code: codeFrom(await t.lastMailTo(email)) }));

    const guesses = await flood(
      attackers.map((ip, index) => () => settle(from(t, ip).api.auth.login.mutate({ email, password: `guess number ${index}` }))),
    );
    expect(guesses.every((outcome) => outcome === 'INVALID_CREDENTIALS')).toBe(true);
    // The attackers' right guess would get a challenge, never tokens: the account is under attack.
    const attacked = await from(t, attackers[0] ?? '').api.auth.login.mutate({ email, password });
    expect(attacked).toMatchObject({ status: 'mfa_required', reasons: expect.arrayContaining(['many_failed_attempts']) });

    // The owner's device and a new device of theirs both get in.
    const laptop = await t.signInOn(t.client({ deviceOf: own.jar, headers: { 'x-forwarded-for': home } }), { email, password });
    expect((await laptop.api.auth.me.query()).email).toBe(email);
    const phoneDevice = await t.signInOn(from(t, phone), { email, password });
    expect((await phoneDevice.api.auth.me.query()).email).toBe(email);
  });

  it('a mail the provider did not take counts against no cap', async () => {
    await using t = await createTestServer({ trustProxy: true, rateLimits: { signupPerIp: { points: 100 } } });
    const email = uniqueEmail('outage');
    const own = from(t, home);
    t.mail.failNext(1_000, 503);
    for (let attempt = 0; attempt < 6; attempt++) {
      expect(await settle(own.api.auth.signup.mutate({ email, password: 'a long enough passphrase' }))).toBe('MAIL_UNAVAILABLE');
    }
    t.mail.failNext(0);
    for (let attempt = 0; attempt < 5; attempt++) {
      await own.api.auth.signup.mutate({ email, password: 'a long enough passphrase' });
    }
    expect(mailsTo(t, email, 'verify_email')).toHaveLength(5);
  });
});
