import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIamServer, createLogger } from '@iam/server';
import { describe, expect, it } from 'vitest';
import type { ResponseOptions } from '../peers/samlIdp';
import { rows, uniqueDomain } from './env';
import {
  createSamlEnv,
  deliver,
  locationOf,
  person,
  postForm,
  returnTo,
  type SamlEnv,
  type SamlOrganization,
  samlOrganization,
  visitSamlIdp,
} from './samlEnv';

/** Nothing of a refused response stayed: no account, link, membership, session or replay-cache row. */
async function expectNothingKept(env: SamlEnv, email: string): Promise<void> {
  expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])).toEqual([{ n: 0 }]);
  expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM oauth_accounts')).toEqual([{ n: 0 }]);
  expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM saml_assertions')).toEqual([{ n: 0 }]);
  expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM oauth_states WHERE saml_profile_sealed IS NOT NULL')).toEqual([{ n: 0 }]);
}

/** A response made with `options`, posted to the ACS: where the browser is sent. */
async function refusalOf(env: SamlEnv, org: SamlOrganization, options: ResponseOptions, email = `ada@${org.domain}`) {
  const browser = env.t.client();
  const { form } = await visitSamlIdp(env, browser.api, email, person(email), options);
  const posted = await postForm(form, form.action);
  expect(posted.status).toBe(303);
  const location = locationOf(posted);
  expect(location.origin + location.pathname).toBe(returnTo);
  return Object.fromEntries(location.searchParams);
}

async function auditedChecks(env: SamlEnv, org: SamlOrganization): Promise<string[]> {
  const audited = await rows(
    env.t,
    "SELECT data FROM audit_events WHERE type = 'login.failed' AND organization_id = ? ORDER BY created_at, id",
    [org.organizationId],
  );
  return audited.map((row) => {
    const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as { reason: string; check: string };
    expect(data.reason).toBe('sso_response_invalid');
    return data.check;
  });
}

const past = new Date(Date.now() - 10 * 60_000).toISOString();

describe('SAML responses the service refuses (SAML 2.0 Core §2.5, §3.2.2; Profiles §4.1.4.2–4.1.4.3)', () => {
  it('signatures: tampered after signing, another key, an unsigned assertion (alone or in a signed Response)', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const email = `ada@${org.domain}`;
    const tamper = (xml: string) => {
      const edited = xml.replace(`${email}</saml:AttributeValue>`, `eve@${org.domain}</saml:AttributeValue>`);
      if (edited === xml) throw new Error(`nothing to tamper with in ${xml}`);
      return edited;
    };
    expect(await refusalOf(env, org, { tamper })).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'signature' });
    expect(await refusalOf(env, org, { signer: 'stranger' })).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'signature' });
    // Signature wrapping: an unsigned assertion of the attacker's beside, or around, the signed one.
    const evilOf = (signed: string) =>
      signed
        .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
        .replace(/ ID="[^"]+"/, ' ID="_evil"')
        .replace(`${email}</saml:AttributeValue>`, `eve@${org.domain}</saml:AttributeValue>`);
    const assertionOf = (xml: string) => /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] ?? '';
    const beside = (xml: string) => xml.replace(assertionOf(xml), `${evilOf(assertionOf(xml))}${assertionOf(xml)}`);
    const around = (xml: string) => {
      const signed = assertionOf(xml);
      const evil = evilOf(signed).replace('</saml:Subject>', `</saml:Subject><saml:Advice>${signed}</saml:Advice>`);
      return xml.replace(signed, evil);
    };
    expect(await refusalOf(env, org, { tamper: beside })).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'signature' });
    expect(await refusalOf(env, org, { tamper: around })).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'signature' });
    // A valid signature by the configured key, but over SHA-1 (NIST SP 800-131A): refused.
    expect(await refusalOf(env, org, { signatureAlgorithm: 'rsa-sha1' })).toEqual({
      error: 'SSO_RESPONSE_INVALID',
      reason: 'weak_algorithm',
    });
    expect(await refusalOf(env, org, { sign: 'none' })).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'signature' });
    expect(await refusalOf(env, org, { sign: 'response' })).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'signature' });
    // Both signed, over SHA-512: accepted (the assertion's own signature is what counts).
    const browser = env.t.client();
    const { form } = await visitSamlIdp(env, browser.api, email, person(email), { sign: 'both', signatureAlgorithm: 'rsa-sha512' });
    await expectNothingKept(env, email);
    expect((await deliver(form, browser.jar)).location.searchParams.get('status')).toBe('authenticated');
    expect(await auditedChecks(env, org)).toEqual([
      'signature',
      'signature',
      'signature',
      'signature',
      'weak_algorithm',
      'signature',
      'signature',
    ]);
  });

  it('audience, recipient, destination, issuer, status and time: each refused with its reason, nothing kept', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const cases: Array<[ResponseOptions, string]> = [
      [{ fields: { audience: 'https://someone-else.example/sp' } }, 'audience'],
      [{ fields: { recipient: `${env.t.url}/sso/saml/elsewhere/acs` } }, 'recipient'],
      [{ fields: { destination: 'https://someone-else.example/acs' } }, 'destination'],
      [{ sign: 'both', fields: { destination: '' } }, 'destination'],
      [{ fields: { issuer: 'https://impostor.example/idp' } }, 'issuer'],
      [{ fields: { status: 'urn:oasis:names:tc:SAML:2.0:status:Requester' } }, 'status'],
      [{ fields: { subjectNotOnOrAfter: past } }, 'expired'],
      [{ fields: { conditionsNotOnOrAfter: past } }, 'expired'],
      [{ fields: { conditionsNotBefore: new Date(Date.now() + 10 * 60_000).toISOString() } }, 'expired'],
    ];
    for (const [options, reason] of cases) {
      expect(await refusalOf(env, org, options), reason).toEqual({ error: 'SSO_RESPONSE_INVALID', reason });
    }
    await expectNothingKept(env, `ada@${org.domain}`);
    expect(await auditedChecks(env, org)).toEqual(cases.map(([, reason]) => reason));
  });

  it('InResponseTo: an unsolicited response and one answering another flow are refused (login CSRF)', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const email = `ada@${org.domain}`;
    expect(await refusalOf(env, org, { fields: { inResponseTo: '' } })).toEqual({
      error: 'SSO_RESPONSE_INVALID',
      reason: 'in_response_to',
    });

    // The attacker's own flow's response, posted with the victim's RelayState.
    const victim = env.t.client();
    const attacker = env.t.client();
    const mine = await visitSamlIdp(env, attacker.api, email, person(email));
    const theirs = await visitSamlIdp(env, victim.api, email, person(email));
    const crossed = await postForm({ SAMLResponse: mine.form.SAMLResponse, RelayState: theirs.form.RelayState }, mine.form.action);
    expect(Object.fromEntries(locationOf(crossed).searchParams)).toEqual({ error: 'SSO_RESPONSE_INVALID', reason: 'in_response_to' });
    // No RelayState at all (IdP-initiated): no flow, nothing read.
    const unsolicited = await postForm({ SAMLResponse: mine.form.SAMLResponse, RelayState: '' }, mine.form.action);
    expect(unsolicited.status).toBe(400);
    await expectNothingKept(env, email);
  });

  it('a replayed response is refused, also on a second instance of the service on the same database', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const email = `ada@${org.domain}`;
    const browser = env.t.client();
    const { form } = await visitSamlIdp(env, browser.api, email, person(email));
    const second = await createIamServer({
      ...env.t.config,
      clock: env.t.clock,
      hibpApiUrl: null,
      logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      oauth: { providers: [], returnToAllowlist: [returnTo] },
    });
    const http = createServer(second.app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const secondAcs = `http://127.0.0.1:${(http.address() as AddressInfo).port}${new URL(org.acsUrl).pathname}`;
      // Two instances, the same response at once: exactly one insert wins.
      const [a, b] = await Promise.all([postForm(form, form.action), postForm(form, secondAcs)]);
      const outcomes = [locationOf(a), locationOf(b)].map((url) => url.searchParams.get('reason') ?? url.pathname.slice(-4));
      expect(outcomes.sort()).toEqual(['/acs', 'replayed']);
      expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM saml_assertions')).toEqual([{ n: 1 }]);
      // And again, later, on the second instance.
      const again = await postForm(form, secondAcs);
      expect(locationOf(again).searchParams.get('reason')).toBe('replayed');
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await second.close();
    }
    // The browser that started the flow still completes it, once.
    const next = new URL(org.acsUrl);
    next.searchParams.set('RelayState', form.RelayState);
    const final = await fetch(next, { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(locationOf(final).searchParams.get('status')).toBe('authenticated');
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])).toEqual([{ n: 1 }]);

    // The replay-cache row goes once the assertion has expired (retention sweep, after the grace).
    env.t.clock.advance(3 * 24 * 3600);
    expect((await env.t.iam.runMaintenance()).swept).toMatchObject({ samlAssertions: 1 });
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM saml_assertions')).toEqual([{ n: 0 }]);
  });

  it('another browser cannot finish the flow; an address outside the verified domains is link_required and joins nothing', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const email = `ada@${org.domain}`;
    const browser = env.t.client();
    const { form } = await visitSamlIdp(env, browser.api, email, person(email));
    const posted = await postForm(form, form.action);
    const lured = env.t.client();
    await lured.api.sso.discover.mutate({ email });
    const stolen = await fetch(locationOf(posted), { redirect: 'manual', headers: { cookie: lured.jar.header() } });
    expect(stolen.status).toBe(400);
    expect(stolen.headers.getSetCookie().some((cookie) => cookie.startsWith('iam_rt='))).toBe(false);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])).toEqual([{ n: 0 }]);
    const own = await fetch(locationOf(posted), { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(locationOf(own).searchParams.get('status')).toBe('authenticated');

    // The IdP asserts an address at a domain the organization never verified, of an existing account.
    const victim = await env.t.signUp({ email: `victim@${uniqueDomain()}` });
    const attacker = env.t.client();
    const { form: outside } = await visitSamlIdp(env, attacker.api, email, person(victim.email));
    const answer = await deliver(outside, attacker.jar);
    expect(answer.location.searchParams.get('status')).toBe('link_required');
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM oauth_accounts WHERE user_id = ?', [victim.userId])).toEqual([{ n: 0 }]);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM organization_members WHERE user_id = ?', [victim.userId])).toEqual([{ n: 0 }]);
  });

  it('garbage never reaches a 5xx and changes nothing: not base64, not XML, a DTD with entities, an encrypted assertion, 300 KB', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const email = `ada@${org.domain}`;
    const browser = env.t.client();
    const { form } = await visitSamlIdp(env, browser.api, email, person(email));
    const xxe = Buffer.from(
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>',
    ).toString('base64');
    const encrypted = Buffer.from(
      Buffer.from(form.SAMLResponse, 'base64')
        .toString('utf8')
        .replace(
          /<saml:Assertion[\s\S]*<\/saml:Assertion>/,
          '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>',
        ),
    ).toString('base64');
    const cases: Array<[string, string]> = [
      ['%%% not base64 %%%', 'malformed'],
      [Buffer.from('hello, not XML').toString('base64'), 'malformed'],
      [Buffer.from('<a><b></a>').toString('base64'), 'malformed'],
      [xxe, 'malformed'],
      [encrypted, 'encrypted'],
      ['', 'malformed'],
    ];
    for (const [samlResponse, reason] of cases) {
      const answer = await postForm({ SAMLResponse: samlResponse, RelayState: form.RelayState }, form.action);
      expect(answer.status, reason).toBe(303);
      expect(Object.fromEntries(locationOf(answer).searchParams), reason).toEqual({ error: 'SSO_RESPONSE_INVALID', reason });
    }
    const huge = await postForm({ SAMLResponse: 'A'.repeat(300 * 1024), RelayState: form.RelayState }, form.action);
    expect(huge.status).toBe(413);
    const notForm = await fetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"SAMLResponse":1}',
    });
    expect(notForm.status).toBeLessThan(500);
    const unknown = await postForm(form, `${env.t.url}/sso/saml/sso_nobodyatallhere1234/acs`);
    expect(unknown.status).toBe(404);
    await expectNothingKept(env, email);
    // The flow is still there: the real response still signs the person in.
    expect((await deliver(form, browser.jar)).location.searchParams.get('status')).toBe('authenticated');
  });
});
