import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type BotCheckChallenge, createBffClient, iamCodeOf, solveBotCheck } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { type BrowserRequest, createBff } from '../../examples/bff';
import { refusalOf } from '../harness/http';
import { authenticated, codeFrom, createTestServer, type TestServer, uniqueEmail } from '../harness/server';
import { hmacKeys, introspectOnlyKey, mainKey, postSigned } from './signed';

/** A BFF whose clock is the service's (the tests move it). */
function bffClient(t: TestServer, key = mainKey) {
  return createBffClient({ url: t.trpcUrl, keyId: key.id, secret: key.secret, now: () => t.clock.now().getTime() });
}

const browser = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
};

function newPassword(): string {
  return `correct horse ${randomBytes(6).toString('hex')}`;
}

/** The next mail of a template to an address, sent after `since` messages. */
async function codeMailed(t: TestServer, email: string, template: string, since: number): Promise<string> {
  const message = await t.mail.waitFor(
    (candidate) => t.mail.messages.indexOf(candidate) >= since && candidate.to.includes(email) && candidate.tags.template === template,
  );
  return codeFrom(message);
}

/** Signs up and verifies through the BFF procedures, as a BFF does for a browser it has no canary for yet. */
async function signUpThroughBff(t: TestServer) {
  const bff = bffClient(t);
  const email = uniqueEmail('bffsignin');
  const password = newPassword();
  const signup = await bff.bff.signup.mutate({ email, password, name: 'Through BFF', client: browser });
  expect(signup).toMatchObject({ status: 'verification_required', challengeId: expect.stringMatching(/^chl_/) });
  expect(signup.canaryId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const code = codeFrom(await t.lastMailTo(email));
  const verified = await bff.bff.verifyEmail.mutate({
    challengeId: signup.challengeId,
    code,
    client: { ...browser, canaryId: signup.canaryId },
  });
  return { bff, email, password, canaryId: signup.canaryId, verified };
}

describe('signing in through a BFF', () => {
  it('bff.signup → bff.verifyEmail (code): the tokens in the body, the pending password and name applied on the same canary', async () => {
    await using t = await createTestServer({ hmacKeys });
    const { bff, email, password, canaryId, verified } = await signUpThroughBff(t);
    expect(verified).toMatchObject({ status: 'authenticated', user: { email, name: 'Through BFF', emailVerified: true }, canaryId });
    expect(verified.refreshToken.length).toBeGreaterThan(20);
    expect(verified.refreshTokenExpiresAt).toBeInstanceOf(Date);
    expect(verified.accessTokenExpiresAt).toBeInstanceOf(Date);
    expect(await bff.bff.introspect.mutate({ accessToken: verified.accessToken })).toMatchObject({ active: true, sub: verified.user.id });
    // The password chosen at sign-up is the account's: a password sign-in from that device gives tokens.
    const login = authenticated(await bff.bff.login.mutate({ email, password, client: { ...browser, canaryId } }));
    expect(login.canaryId).toBe(canaryId);
  });

  it('bff.verifyEmail from another canary than the sign-up is PASSWORD_REQUIRED (pre-hijacking), and works with the verifier’s own password', async () => {
    await using t = await createTestServer({ hmacKeys });
    const bff = bffClient(t);
    const email = uniqueEmail('bffhijack');
    const signup = await bff.bff.signup.mutate({ email, password: newPassword(), client: browser });
    const code = codeFrom(await t.lastMailTo(email));
    expect(await refusalOf(bff.bff.verifyEmail.mutate({ challengeId: signup.challengeId, code, client: browser }))).toBe(
      'PASSWORD_REQUIRED',
    );
    const own = newPassword();
    const verified = await bff.bff.verifyEmail.mutate({ challengeId: signup.challengeId, code, password: own, client: browser });
    expect(verified.status).toBe('authenticated');
    expect(verified.canaryId).not.toBe(signup.canaryId);
  });

  it('bff.login: tokens from a known canary; from a new one a Challenge, answered with bff.verifyChallenge', async () => {
    await using t = await createTestServer({ hmacKeys });
    const { bff, email, password, canaryId } = await signUpThroughBff(t);

    const known = authenticated(await bff.bff.login.mutate({ email, password, client: { ...browser, canaryId } }));
    expect(known).toMatchObject({ user: { email }, canaryId });
    expect(known.refreshToken).toBeTruthy();

    const mailsBefore = t.mail.messages.length;
    const challenge = await bff.bff.login.mutate({ email, password, client: browser });
    if (challenge.status !== 'mfa_required') throw new Error(`expected a challenge, got ${challenge.status}`);
    expect(challenge.reasons).toContain('new_device');
    expect(challenge.methods).toEqual(['email_otp']);
    expect(challenge.canaryId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge.canaryId).not.toBe(canaryId);
    const code = await codeMailed(t, email, 'login_code', mailsBefore);
    const answered = await bff.bff.verifyChallenge.mutate({
      challengeId: challenge.challengeId,
      code,
      client: { ...browser, canaryId: challenge.canaryId },
    });
    expect(answered).toMatchObject({ status: 'authenticated', user: { email }, canaryId: challenge.canaryId });
    // The device proved itself: the next sign-in from it gives tokens at once.
    authenticated(await bff.bff.login.mutate({ email, password, client: { ...browser, canaryId: challenge.canaryId } }));
  });

  it('bff.login of an unverified account answers verification_required with the canary, finished with bff.verifyEmail', async () => {
    await using t = await createTestServer({ hmacKeys });
    const bff = bffClient(t);
    const email = uniqueEmail('bffunverified');
    const password = newPassword();
    const signup = await bff.bff.signup.mutate({ email, password, client: browser });
    const client = { ...browser, canaryId: signup.canaryId };
    const mailsBefore = t.mail.messages.length;
    const login = await bff.bff.login.mutate({ email, password, client });
    expect(login).toMatchObject({ status: 'verification_required', canaryId: signup.canaryId });
    if (login.status !== 'verification_required') throw new Error('expected verification');
    const code = await codeMailed(t, email, 'verify_email', mailsBefore);
    const verified = await bff.bff.verifyEmail.mutate({ challengeId: login.challengeId, code, client });
    expect(verified).toMatchObject({ status: 'authenticated', user: { email } });
  });

  it('a wrong password is INVALID_CREDENTIALS, counted on the forwarded browser, not on the BFF', async () => {
    await using t = await createTestServer({ hmacKeys });
    const { bff, email, canaryId } = await signUpThroughBff(t);
    expect(await refusalOf(bff.bff.login.mutate({ email, password: 'not the password at all', client: { ...browser, canaryId } }))).toBe(
      'INVALID_CREDENTIALS',
    );
    const [rows] = await t.sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM audit_events WHERE type = 'login.failed' AND ip = ?`, [
      browser.ip,
    ]);
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('is refused unsigned (HMAC_INVALID), and with a key whose allowlist lacks the procedure; no cookie is ever set', async () => {
    await using t = await createTestServer({ hmacKeys });
    const email = uniqueEmail('bffrefused');
    const input = { email, password: newPassword(), client: browser };
    for (const path of ['bff.login', 'bff.signup']) {
      const unsigned = await fetch(`${t.trpcUrl}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ json: input }),
      });
      expect(unsigned.status).toBe(401);
      expect(((await unsigned.json()) as { error: { json: { data: { iamCode: string } } } }).error.json.data.iamCode).toBe('HMAC_INVALID');
    }
    // A key allowed bff.introspect only: refused before anything runs (no account, no mail).
    expect(await refusalOf(bffClient(t, introspectOnlyKey).bff.login.mutate(input))).toBe('HMAC_INVALID');
    expect(await refusalOf(bffClient(t, introspectOnlyKey).bff.signup.mutate(input))).toBe('HMAC_INVALID');
    const [users] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email]);
    expect(Number(users[0]?.n)).toBe(0);

    const signup = await postSigned(t, '/trpc/bff.signup', input);
    expect(signup.status).toBe(200);
    expect(signup.headers.get('set-cookie')).toBeNull();
    const { challengeId, canaryId } = (signup.body as { result: { data: { json: { challengeId: string; canaryId: string } } } }).result.data
      .json;
    const verified = await postSigned(t, '/trpc/bff.verifyEmail', {
      challengeId,
      code: codeFrom(await t.lastMailTo(email)),
      client: { ...browser, canaryId },
    });
    expect(verified.status).toBe(200);
    expect(verified.headers.get('set-cookie')).toBeNull();
    expect(verified.text).toContain('refreshToken');
  });

  it('the bot check applies as to a direct call: BOT_CHECK_REQUIRED with a challenge, and the browser’s solution passed through', async () => {
    await using t = await createTestServer({ hmacKeys, botCheck: { modes: { signup: 'always', login: 'always' } } });
    const bff = bffClient(t);
    const email = uniqueEmail('bffbot');
    const input = { email, password: newPassword(), client: browser };
    let refusal: unknown;
    try {
      await bff.bff.signup.mutate(input);
    } catch (error) {
      refusal = error;
    }
    expect(iamCodeOf(refusal)).toBe('BOT_CHECK_REQUIRED');
    const challenge = (refusal as { data?: { botCheck?: BotCheckChallenge } }).data?.botCheck;
    if (!challenge) throw new Error('no bot check challenge');
    const signup = await bff.bff.signup.mutate({ ...input, botCheck: await solveBotCheck(challenge) });
    expect(signup.status).toBe('verification_required');
  });

  it('the refresh token of a BFF sign-in works with bff.refresh, and bff.logout ends the session', async () => {
    await using t = await createTestServer({ hmacKeys });
    const { bff, email, password, canaryId } = await signUpThroughBff(t);
    const client = { ...browser, canaryId };
    const login = authenticated(await bff.bff.login.mutate({ email, password, client }));
    const refreshed = authenticated(await bff.bff.refresh.mutate({ refreshToken: login.refreshToken, client }));
    expect(refreshed.refreshToken).not.toBe(login.refreshToken);
    expect(refreshed.canaryId).toBe(canaryId);
    expect(await bff.bff.logout.mutate({ refreshToken: refreshed.refreshToken, accessToken: refreshed.accessToken, client })).toEqual({
      status: 'signed_out',
    });
    expect(await refusalOf(bff.bff.refresh.mutate({ refreshToken: refreshed.refreshToken, client }))).toMatch(/^REFRESH_TOKEN_/);
    expect(await bff.bff.introspect.mutate({ accessToken: refreshed.accessToken })).toMatchObject({ active: false, reason: 'revoked' });
  });
});

describe('the README BFF example (test/examples/bff.ts)', () => {
  it('is quoted in the README as it is', async () => {
    const example = await readFile(new URL('../../examples/bff.ts', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const code = example.slice(example.indexOf('import { createBffClient'));
    expect(code.length).toBeGreaterThan(1000);
    expect(readme).toContain(`\`\`\`ts\n${code}\`\`\``);
  });

  it('signs up, verifies, signs in (answering the new-browser code), refreshes, introspects and signs out', async () => {
    await using t = await createTestServer({ hmacKeys });
    const bff = createBff({ url: t.trpcUrl, keyId: mainKey.id, secret: mainKey.secret, now: () => t.clock.now().getTime() });
    const email = uniqueEmail('bffexample');
    const password = newPassword();
    const laptop: BrowserRequest = { ip: browser.ip, headers: { 'user-agent': browser.userAgent }, session: {} };

    const signedUp = await bff.signUp(laptop, { email, password, name: 'Example' });
    if (signedUp.status !== 'verify_email') throw new Error(`expected verify_email, got ${signedUp.status}`);
    expect(laptop.session.canaryId).toBeTruthy();
    const verified = await bff.verifyEmail(laptop, { challengeId: signedUp.challengeId, code: codeFrom(await t.lastMailTo(email)) });
    expect(verified).toMatchObject({ status: 'signed_in' });
    const me = await bff.currentUser(laptop);
    expect(me).toMatchObject({ roles: ['user'] });

    // A second browser: the sign-in checks ask for the mailed code.
    const phone: BrowserRequest = { ip: browser.ip, headers: { 'user-agent': browser.userAgent }, session: {} };
    const mailsBefore = t.mail.messages.length;
    const step = await bff.signIn(phone, { email, password });
    if (step.status !== 'code_required') throw new Error(`expected code_required, got ${step.status}`);
    const answered = await bff.answerChallenge(phone, {
      challengeId: step.challengeId,
      code: await codeMailed(t, email, 'login_code', mailsBefore),
    });
    expect(answered.status).toBe('signed_in');

    // The access token nears its end: the BFF refreshes on the next request, with the same canary.
    const before = phone.session.refreshToken;
    t.clock.advance(700);
    expect(await bff.currentUser(phone)).toMatchObject({ roles: ['user'] });
    expect(phone.session.refreshToken).not.toBe(before);

    await bff.signOut(phone);
    expect(phone.session.refreshToken).toBeUndefined();
    expect(await bff.currentUser(phone)).toBeNull();
    // The other browser's session lives on.
    expect(await bff.currentUser(laptop)).toMatchObject({ roles: ['user'] });
  });
});
