import { type BotCheckChallenge, iamCodeOf, isIamError, solveBotCheck } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { errorOf, post } from '../harness/http';
import { createTestServer, type TestServer, uniqueEmail } from '../harness/server';

function signupBody(email: string, botCheck?: string) {
  return JSON.stringify({ json: { email, password: 'a long enough passphrase', ...(botCheck ? { botCheck } : {}) } });
}

/** A call without the client's solver: the refusal as a script sees it. */
async function rawSignup(t: TestServer, email: string, botCheck?: string, ip = '203.0.113.9') {
  return post(t.trpcUrl, 'auth.signup', signupBody(email, botCheck), { 'x-forwarded-for': ip });
}

function challengeOf(response: Awaited<ReturnType<typeof rawSignup>>): BotCheckChallenge {
  const data = errorOf(response) as unknown as { iamCode: string; botCheck?: BotCheckChallenge };
  expect(data.iamCode).toBe('BOT_CHECK_REQUIRED');
  if (!data.botCheck) throw new Error('no challenge in error.data.botCheck');
  return data.botCheck;
}

async function userCount(t: TestServer, email: string): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE email_normalized = ?', [email.toLowerCase()]);
  return Number(rows[0]?.n);
}

describe('proof-of-work bot check', () => {
  it('always: a call without a solution is refused with an ALTCHA challenge and changes nothing; a solved call passes', async () => {
    await using t = await createTestServer({ trustProxy: true, botCheck: { modes: { signup: 'always' } } });
    const email = uniqueEmail('bot');
    const refused = await rawSignup(t, email);
    expect(refused.status).toBe(400);
    const challenge = challengeOf(refused);
    expect(challenge).toEqual({
      algorithm: 'SHA-256',
      challenge: expect.stringMatching(/^[0-9a-f]{64}$/),
      salt: expect.stringContaining('expires='),
      maxnumber: 1000,
      signature: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await userCount(t, email)).toBe(0);
    expect(t.mail.messages).toHaveLength(0);

    const solved = await rawSignup(t, email, await solveBotCheck(challenge));
    expect(solved.status).toBe(200);
    expect(await userCount(t, email)).toBe(1);
  });

  it('a solution works once: replayed, or presented after its 5 minutes, it is refused with a fresh challenge', async () => {
    await using t = await createTestServer({ trustProxy: true, botCheck: { modes: { signup: 'always' } } });
    const solution = await solveBotCheck(challengeOf(await rawSignup(t, uniqueEmail('bot'))));
    expect((await rawSignup(t, uniqueEmail('first'), solution)).status).toBe(200);
    const replayed = await rawSignup(t, uniqueEmail('replay'), solution);
    expect(challengeOf(replayed).challenge).not.toBe(JSON.parse(atob(solution)).challenge);

    const late = await solveBotCheck(challengeOf(await rawSignup(t, uniqueEmail('bot'))));
    t.clock.advance(5 * 60 + 1);
    challengeOf(await rawSignup(t, uniqueEmail('late'), late));

    // Redeemed solutions are kept only until their challenges expire.
    await t.iam.runMaintenance();
    const [kept] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM bot_check_solutions');
    expect(Number(kept[0]?.n)).toBe(0);

    // Forged: the work done, but not on a challenge the service signed.
    const forged = btoa(JSON.stringify({ ...JSON.parse(atob(late)), signature: '0'.repeat(64) }));
    challengeOf(await rawSignup(t, uniqueEmail('forged'), forged));
    for (const junk of ['not base64 at all!', btoa('{"algorithm":"SHA-256"}'), btoa('[]')]) {
      challengeOf(await rawSignup(t, uniqueEmail('junk'), junk));
    }
  });

  it('under attack (default): a scripted flood from one IP is asked for proof of work; a person elsewhere is not; the typed client solves it by itself', async () => {
    await using t = await createTestServer({ trustProxy: true, rateLimits: { signupPerIp: { points: 50 } } });
    const script = '198.51.100.7';
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await rawSignup(t, uniqueEmail('flood'), undefined, script);
      outcomes.push(response.status === 200 ? 'ok' : errorOf(response).iamCode);
    }
    // Three sign-ups an hour from one address are a person; past that, proof of work.
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'BOT_CHECK_REQUIRED', 'BOT_CHECK_REQUIRED', 'BOT_CHECK_REQUIRED']);
    expect((await rawSignup(t, uniqueEmail('person'), undefined, '81.2.69.142')).status).toBe(200);

    // The typed client sees none of it: it solves the challenge and repeats the call once.
    const { api } = t.client({ headers: { 'x-forwarded-for': script } });
    await expect(api.auth.signup.mutate({ email: uniqueEmail('client'), password: 'a long enough passphrase' })).resolves.toMatchObject({
      status: 'verification_required',
    });
    // With solving turned off, the refusal reaches the caller with its challenge.
    const manual = t.client({ botCheck: 'off', headers: { 'x-forwarded-for': script } });
    const error = await manual.api.auth.signup
      .mutate({ email: uniqueEmail('manual'), password: 'a long enough passphrase' })
      .catch((e: unknown) => e);
    expect(isIamError(error, 'BOT_CHECK_REQUIRED')).toBe(true);
    if (isIamError(error)) expect(error.data.botCheck?.algorithm).toBe('SHA-256');
  });

  it('under attack at an address: guesses at one account from many IPs make its sign-in ask for proof of work, which the client solves', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const user = await t.signUp();
    for (let i = 0; i < 5; i++) {
      const guess = t.client({ botCheck: 'off', headers: { 'x-forwarded-for': `198.51.100.${20 + i}` } });
      expect(await guess.api.auth.login.mutate({ email: user.email, password: `guess ${i}` }).catch(iamCodeOf)).toBe('INVALID_CREDENTIALS');
    }
    const next = t.client({ botCheck: 'off', headers: { 'x-forwarded-for': '198.51.100.99' } });
    expect(await next.api.auth.login.mutate({ email: user.email, password: 'guess 6' }).catch(iamCodeOf)).toBe('BOT_CHECK_REQUIRED');
    // The owner's client solves it and signs in (with the account under attack, through its mailed code).
    const owner = await t.signInOn(t.client({ deviceOf: user.jar }), user);
    expect((await owner.api.auth.me.query()).id).toBe(user.userId);
  });

  it('off: never asked, even under a flood', async () => {
    await using t = await createTestServer({ trustProxy: true, botCheck: { modes: { requestPasswordReset: 'off' } } });
    for (let i = 0; i < 8; i++) {
      const response = await post(t.trpcUrl, 'auth.requestPasswordReset', JSON.stringify({ json: { email: uniqueEmail('reset') } }), {
        'x-forwarded-for': '198.51.100.50',
      });
      expect(response.status).toBe(200);
    }
  });
});
