import type { IamClient } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, createTestServer, type TestServer, uniqueEmail } from '../harness/server';
import { enrolTotp } from '../harness/totp';
import { accountId, createOAuthEnv, deliver, visitProvider } from '../oauth/env';

const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** Addresses in the service's offline data: two access networks in Great Britain, one in Brazil, a hoster in Germany. */
const london = '81.2.69.142';
const otherBritishNetwork = '86.1.1.1';
const portoAlegre = '2.16.0.1';
const hetzner = '88.198.1.1';

type SignInResult = Awaited<ReturnType<IamClient['auth']['login']['mutate']>>;
type Challenge = Extract<SignInResult, { status: 'mfa_required' }>;

function challenged(result: SignInResult): Challenge {
  if (result.status !== 'mfa_required') throw new Error(`expected a challenge, got ${JSON.stringify(result)}`);
  return result;
}

/** A browser at an address; `signUp` makes the account there, so its history is that place. */
function browserAt(t: TestServer, ip: string, userAgent = chromeOnLinux) {
  return t.client({ headers: { 'x-forwarded-for': ip, 'user-agent': userAgent } });
}

async function accountFrom(t: TestServer, ip: string) {
  const email = uniqueEmail('risk');
  const password = 'correct horse battery staple';
  const home = browserAt(t, ip);
  const signup = await home.api.auth.signup.mutate({ email, password });
  const code = codeFrom(await t.lastMailTo(email));
  const verified = authenticated(await home.api.auth.verifyEmail.mutate({ challengeId: signup.challengeId, code }));
  return { email, password, home, userId: verified.user.id };
}

async function sessionCount(t: TestServer, userId: string): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [userId]);
  return Number(rows[0]?.n);
}

async function codeMailTo(t: TestServer, email: string, after: number) {
  return t.mail.waitFor(
    (message) => t.mail.messages.indexOf(message) >= after && message.to.includes(email) && message.tags.template === 'login_code',
  );
}

describe('sign-in risk', () => {
  it('the first sign-in, right after verifying the address, is not judged: it passes and its device is trusted', async () => {
    await using t = await createTestServer({ trustProxy: true });
    // A script's user agent and an unseen device: nothing to compare with yet.
    const { home } = await accountFrom(t, hetzner);
    const [current] = await home.api.session.list.query();
    expect(current).toMatchObject({ current: true, trusted: true, verdict: { outcome: 'passed', reasons: [] } });
  });

  it('new_device: the right password from a browser the account never used gets a challenge and no tokens; the code signs in, proves and trusts the device', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const { email, password, userId } = await accountFrom(t, london);
    const sessionsBefore = await sessionCount(t, userId);
    const mailsBefore = t.mail.messages.length;
    const laptop = browserAt(t, london);

    const challenge = challenged(await laptop.api.auth.login.mutate({ email, password }));
    expect(challenge).toMatchObject({ methods: ['email_otp'], reasons: ['new_device'] });
    expect(laptop.jar.get('iam_rt')).toBeUndefined();
    expect(await sessionCount(t, userId)).toBe(sessionsBefore);
    const [audits] = await t.sql.query<RowDataPacket[]>("SELECT data FROM audit_events WHERE user_id = ? AND type = 'login.challenged'", [
      userId,
    ]);
    expect(audits.map((row) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data))).toEqual([
      expect.objectContaining({ method: 'password', reasons: ['new_device'] }),
    ]);

    const mail = await codeMailTo(t, email, mailsBefore);
    expect(mail.text).toContain('not signed in from this browser or device before');
    const signedIn = authenticated(await laptop.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: codeFrom(mail) }));
    expect(signedIn.user.id).toBe(userId);
    const current = (await laptop.api.session.list.query()).find((session) => session.current);
    expect(current).toMatchObject({ trusted: true, verdict: { outcome: 'challenged', reasons: ['new_device'], at: expect.any(Date) } });

    // The device proved itself: it signs in again at once, even from a hoster abroad.
    const later = t.client({ cookieJar: laptop.jar, headers: { 'x-forwarded-for': hetzner, 'user-agent': chromeOnLinux } });
    authenticated(await later.api.auth.login.mutate({ email, password }));
  });

  it('new_country: a known browser signing in from a country the account never used', async () => {
    await using t = await createTestServer({ trustProxy: true, anomaly: { signInModes: { newDevice: 'log' } } });
    const { email, password } = await accountFrom(t, london);
    // An untrusted browser the account knows: it signed in at home while new devices were only logged.
    const laptop = browserAt(t, london);
    authenticated(await laptop.api.auth.login.mutate({ email, password }));
    // Days later (no impossible travel), from Brazil.
    t.clock.advance(3 * 24 * 3600);
    const abroad = t.client({ cookieJar: laptop.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    expect(challenged(await abroad.api.auth.login.mutate({ email, password })).reasons).toEqual(['new_country']);
  });

  it('new_network (when enforced) and hosting_network: a network the account never used, a hoster or VPN', async () => {
    await using t = await createTestServer({
      trustProxy: true,
      anomaly: { signInModes: { newDevice: 'off', newCountry: 'off', newNetwork: 'enforce' } },
    });
    const { email, password } = await accountFrom(t, london);
    t.clock.advance(24 * 3600);
    expect(challenged(await browserAt(t, otherBritishNetwork).api.auth.login.mutate({ email, password })).reasons).toEqual(['new_network']);
    expect(challenged(await browserAt(t, hetzner).api.auth.login.mutate({ email, password })).reasons).toEqual([
      'new_network',
      'hosting_network',
    ]);
  });

  it('hosting_network by default, with a new network only logged', async () => {
    await using t = await createTestServer({ trustProxy: true, anomaly: { signInModes: { newDevice: 'off', newCountry: 'off' } } });
    const { email, password, userId } = await accountFrom(t, london);
    t.clock.advance(24 * 3600);
    expect(challenged(await browserAt(t, hetzner).api.auth.login.mutate({ email, password })).reasons).toEqual(['hosting_network']);
    const [rows] = await t.sql.query<RowDataPacket[]>("SELECT data FROM audit_events WHERE user_id = ? AND type = 'login.challenged'", [
      userId,
    ]);
    const data = typeof rows[0]?.data === 'string' ? JSON.parse(rows[0].data) : rows[0]?.data;
    expect(data).toMatchObject({ reasons: ['hosting_network'], logged: ['new_network'], evidence: { hosting_network: { asn: 24940 } } });
  });

  it('impossible_travel: London, then Brazil ten minutes later', async () => {
    await using t = await createTestServer({ trustProxy: true, anomaly: { signInModes: { newDevice: 'off', newCountry: 'off' } } });
    const { email, password } = await accountFrom(t, london);
    t.clock.advance(600);
    expect(challenged(await browserAt(t, portoAlegre).api.auth.login.mutate({ email, password })).reasons).toEqual(['impossible_travel']);
    // A day later the same trip is possible.
    t.clock.advance(24 * 3600);
    authenticated(await browserAt(t, portoAlegre).api.auth.login.mutate({ email, password }));
  });

  it('bot: a script or headless browser signing in with the right password', async () => {
    await using t = await createTestServer({ trustProxy: true, anomaly: { signInModes: { newDevice: 'off' } } });
    const { email, password } = await accountFrom(t, london);
    for (const agent of ['curl/8.5.0', 'python-requests/2.31', 'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0.0.0 Safari/537.36']) {
      expect(challenged(await browserAt(t, london, agent).api.auth.login.mutate({ email, password })).reasons).toEqual(['bot']);
    }
  });

  it('log mode signs in and records every finding, in session.list and the audit log', async () => {
    await using t = await createTestServer({
      trustProxy: true,
      anomaly: {
        signInModes: { newDevice: 'log', newCountry: 'log', newNetwork: 'log', hostingNetwork: 'log', impossibleTravel: 'log', bot: 'log' },
      },
    });
    const { email, password, userId } = await accountFrom(t, london);
    const script = browserAt(t, hetzner, 'curl/8.5.0');
    authenticated(await script.api.auth.login.mutate({ email, password }));
    const current = (await script.api.session.list.query()).find((session) => session.current);
    expect(current?.trusted).toBe(false);
    expect(current?.verdict?.outcome).toBe('logged');
    expect(current?.verdict?.reasons).toEqual(['new_device', 'new_country', 'new_network', 'hosting_network', 'impossible_travel', 'bot']);
    const [rows] = await t.sql.query<RowDataPacket[]>("SELECT data FROM audit_events WHERE user_id = ? AND type = 'login.succeeded'", [
      userId,
    ]);
    const data = typeof rows[0]?.data === 'string' ? JSON.parse(rows[0].data) : rows[0]?.data;
    expect(data).toMatchObject({ method: 'password', logged: expect.arrayContaining(['new_device', 'bot']) });
  });

  it('an enrolled authenticator answers the doubt: the challenge asks for TOTP and lists the reasons', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const { email, password, home } = await accountFrom(t, london);
    await enrolTotp(home.api, t.clock.now());
    const challenge = challenged(await browserAt(t, portoAlegre).api.auth.login.mutate({ email, password }));
    expect(challenge.methods).toEqual(['totp', 'backup_code']);
    expect(challenge.reasons).toEqual(['totp_enrolled', 'new_device', 'new_country', 'impossible_travel']);
  });

  it('social sign-in goes through the same checks: a provider sign-in from a new browser is challenged, the account-creating one is not', async () => {
    await using env = await createOAuthEnv({ server: { trustProxy: true } });
    const { t } = env;
    const person = accountId();
    const email = uniqueEmail('social');
    const first = browserAt(t, london);
    const created = authenticated(
      await deliver(first.api, await visitProvider(env, first.api, person, { account: { email, email_verified: true } })),
    );
    const elsewhere = browserAt(t, london);
    const result = await deliver(elsewhere.api, await visitProvider(env, elsewhere.api, person));
    expect(result).toMatchObject({ status: 'mfa_required', methods: ['email_otp'], reasons: ['new_device'] });
    expect(elsewhere.jar.get('iam_rt')).toBeUndefined();
    const [audits] = await t.sql.query<RowDataPacket[]>("SELECT data FROM audit_events WHERE user_id = ? AND type = 'login.challenged'", [
      created.user.id,
    ]);
    const data = typeof audits[0]?.data === 'string' ? JSON.parse(audits[0].data) : audits[0]?.data;
    expect(data).toMatchObject({ method: 'oauth', reasons: ['new_device'] });
  });
});
