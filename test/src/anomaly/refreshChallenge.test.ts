import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { post, resultOf, send } from '../harness/http';
import { authenticated, codeFrom, createTestServer, linkTokenFrom, type TestServer } from '../harness/server';
import { enrolTotp, totpCode } from '../harness/totp';

const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const safariOnIphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
/** A residential address in Great Britain and one in Brazil (GeoLite2 City data). */
const london = '81.2.69.142';
const portoAlegre = '2.16.0.1';

async function signedInFrom(t: TestServer, ip: string) {
  const user = await t.signUp();
  const { api, jar } = t.client({ deviceOf: user.jar, headers: { 'x-forwarded-for': ip, 'user-agent': chromeOnLinux } });
  authenticated(await api.auth.login.mutate({ email: user.email, password: user.password }));
  return { ...user, api, jar };
}

type Wire = { status: number; headers: Headers; body: unknown };
const challengeOf = (response: Wire) =>
  resultOf<{ status: string; challengeId: string; reasons: string[]; methods: string[] }>(response as never);

describe('anomaly checks on refresh', () => {
  it('a stolen cookie replayed from another country, browser and no canary gets a challenge and no tokens; the owner keeps working and the code completes it', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    const stolen = owner.jar.get('iam_rt') ?? '';
    const before = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM refresh_tokens');

    const replay = await post(t.trpcUrl, 'session.refresh', '{}', {
      cookie: `iam_rt=${stolen}`,
      'x-forwarded-for': portoAlegre,
      'user-agent': safariOnIphone,
    });
    expect(replay.status).toBe(200);
    const challenge = challengeOf(replay);
    expect(challenge.status).toBe('mfa_required');
    expect(challenge.methods).toContain('email_otp');
    expect(challenge.reasons).toEqual(['canary_missing']);
    // No tokens and no cookie for the attacker; nothing rotated.
    expect(replay.headers.getSetCookie().some((cookie) => cookie.startsWith('iam_rt='))).toBe(false);
    expect(JSON.stringify(replay.body)).not.toMatch(/accessToken/);
    expect((await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM refresh_tokens'))[0]).toEqual(before[0]);

    // The owner, on the real device, never notices.
    const renewed = authenticated(await owner.api.session.refresh.mutate());
    expect(renewed.user.id).toBe(owner.userId);

    // The mail names the reason and carries the code, a link and a "not me" link.
    const mail = await t.mail.waitFor((message) => message.to.includes(owner.email) && message.tags.template === 'login_code');
    expect(mail.text).toMatch(/different browser or device|not seen this session/);
    expect(mail.text).toContain('/not-me?token=');

    // Whoever completes the challenge gets tokens, in that request (here the owner on a new device).
    const completer = t.client({ headers: { 'x-forwarded-for': london, 'user-agent': chromeOnLinux } });
    const completed = authenticated(await completer.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: codeFrom(mail) }));
    expect(completed.user.id).toBe(owner.userId);
    expect(completer.jar.get('iam_rt')).toBeTruthy();

    const sessions = await owner.api.session.list.query();
    // The owner's session passed since, and still shows why it was doubted.
    const doubted = sessions.find((session) => session.current);
    expect(doubted?.verdict).toMatchObject({ decision: 'pass', lastChallenge: { reasons: ['canary_missing'] } });
    const [audits] = await t.sql.query<RowDataPacket[]>(
      "SELECT type FROM audit_events WHERE user_id = ? AND type LIKE 'session.challenge%'",
      [owner.userId],
    );
    expect(audits.map((row) => row.type)).toEqual(expect.arrayContaining(['session.challenged', 'session.challenge_passed']));
  });

  it('the same device moving to another country is challenged, and passing on that device continues the session', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    const travelling = t.client({ cookieJar: owner.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    const result = await travelling.api.session.refresh.mutate();
    expect(result.status).toBe('mfa_required');
    if (result.status !== 'mfa_required') return;
    expect(result.reasons).toEqual(['fingerprint_changed']);
    const code = codeFrom(await t.mail.waitFor((message) => message.tags.template === 'login_code'));
    const passed = authenticated(await travelling.api.mfa.verify.mutate({ challengeId: result.challengeId, code }));
    const [sessions] = await t.sql.query<RowDataPacket[]>('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [
      owner.userId,
    ]);
    // The sign-up's session and this one: no new session was opened, the device is now trusted there.
    expect(sessions).toHaveLength(2);
    expect((await travelling.api.session.list.query()).find((session) => session.current)).toMatchObject({
      trusted: true,
      location: { country: 'BR' },
    });
    expect(passed.user.id).toBe(owner.userId);
    // The next refresh from there passes.
    expect((await travelling.api.session.refresh.mutate()).status).toBe('authenticated');
  });

  it('a challenge whose mail cannot be sent answers MAIL_UNAVAILABLE and keeps the session cookies: the owner is not signed out', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    const held = owner.jar.get('iam_rt');
    t.mail.failNext(3, 500);
    const travelling = t.client({ cookieJar: owner.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    expect(await travelling.api.session.refresh.mutate().catch(iamCodeOf)).toBe('MAIL_UNAVAILABLE');
    // A transient refusal clears nothing: the same token still renews the session from home.
    expect(owner.jar.get('iam_rt')).toBe(held);
    expect((await owner.api.session.refresh.mutate()).status).toBe('authenticated');
  });

  it('impossible travel: the same device, browser and country, but too far too fast', async () => {
    await using t = await createTestServer({ trustProxy: true, anomaly: { fingerprintAttributes: ['browser', 'os', 'deviceType'] } });
    const owner = await signedInFrom(t, london);
    t.clock.advance(120);
    const jet = t.client({ cookieJar: owner.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    const result = await jet.api.session.refresh.mutate();
    expect(result).toMatchObject({ status: 'mfa_required', reasons: ['impossible_travel'] });
  });

  it('a check in log mode lets the refresh through and records what it saw', async () => {
    await using t = await createTestServer({ trustProxy: true, anomaly: { modes: { fingerprint: 'log', network: 'log' } } });
    const owner = await signedInFrom(t, london);
    const moved = t.client({ cookieJar: owner.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    const result = authenticated(await moved.api.session.refresh.mutate());
    expect(result.user.id).toBe(owner.userId);
    const current = (await moved.api.session.list.query()).find((session) => session.current);
    expect(current?.verdict).toMatchObject({ decision: 'pass', logged: ['network_changed', 'fingerprint_changed'] });
  });

  it('an emailed challenge link works once even for 10 parallel consumers', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    await post(t.trpcUrl, 'session.refresh', '{}', { cookie: `iam_rt=${owner.jar.get('iam_rt')}`, 'x-forwarded-for': portoAlegre });
    const token = linkTokenFrom(await t.mail.waitFor((message) => message.tags.template === 'login_code'));
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        send(`${t.trpcUrl}/mfa.consumeLink`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': london },
          body: JSON.stringify({ json: { token } }),
        }),
      ),
    );
    expect(outcomes.filter((response) => response.status === 200)).toHaveLength(1);
    expect(outcomes.filter((response) => response.status === 400)).toHaveLength(9);
  });

  it('"this was not me" ends the doubted session', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    await post(t.trpcUrl, 'session.refresh', '{}', { cookie: `iam_rt=${owner.jar.get('iam_rt')}`, 'x-forwarded-for': portoAlegre });
    const mail = await t.mail.waitFor((message) => message.tags.template === 'login_code');
    const notMe = /\/not-me\?token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1] ?? '';
    await expect(t.client().api.session.notMe.mutate({ token: notMe })).resolves.toEqual({ status: 'revoked' });
    expect(await owner.api.session.refresh.mutate().catch(iamCodeOf)).toBe('REFRESH_TOKEN_INVALID');
    expect(await t.client().api.session.notMe.mutate({ token: notMe }).catch(iamCodeOf)).toBe('LINK_INVALID');
  });

  it('five wrong codes end a refresh challenge', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    const replay = await post(t.trpcUrl, 'session.refresh', '{}', {
      cookie: `iam_rt=${owner.jar.get('iam_rt')}`,
      'x-forwarded-for': portoAlegre,
    });
    const { challengeId } = challengeOf(replay);
    const code = codeFrom(await t.mail.waitFor((message) => message.tags.template === 'login_code'));
    const wrong = code === '000000' ? '111111' : '000000';
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await t.client().api.mfa.verify.mutate({ challengeId, code: wrong }).catch(iamCodeOf));
    expect(outcomes).toEqual(['CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CHALLENGE_EXHAUSTED']);
    expect(await t.client().api.mfa.verify.mutate({ challengeId, code }).catch(iamCodeOf)).toBe('CHALLENGE_EXHAUSTED');
  });

  it('an account with an authenticator can answer a refresh challenge with a TOTP code', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await signedInFrom(t, london);
    const { secret } = await enrolTotp(owner.api, t.clock.now());
    const travelling = t.client({ cookieJar: owner.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    const result = await travelling.api.session.refresh.mutate();
    expect(result).toMatchObject({ status: 'mfa_required', methods: ['email_otp', 'totp', 'backup_code'] });
    if (result.status !== 'mfa_required') return;
    t.clock.advance(30);
    const passed = authenticated(
      await travelling.api.mfa.verify.mutate({ challengeId: result.challengeId, code: totpCode(secret, t.clock.now()) }),
    );
    expect(passed.user.mfa.totp).toBe(true);
  });
});
