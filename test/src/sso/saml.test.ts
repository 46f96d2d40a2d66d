import { describe, expect, it } from 'vitest';
import { authenticated } from '../harness/server';
import { claimsOf, rows } from './env';
import { createSamlEnv, deliver, locationOf, person, postForm, returnTo, samlOrganization, visitSamlIdp } from './samlEnv';

describe('enterprise SSO through a real SAML 2.0 IdP', () => {
  it('SP-initiated: a new person at the domain gets an account, a membership and a session; the token carries org', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const email = `ada@${org.domain}`;
    const browser = env.t.client();
    const { started, form } = await visitSamlIdp(env, browser.api, email, person(email));
    expect(started).toMatchObject({ organizationId: org.organizationId, connectionId: org.connectionId });
    // HTTP-Redirect binding: the IdP's SSO URL, a deflated AuthnRequest and the state as RelayState.
    const request = new URL(started.url);
    expect(request.origin + request.pathname).toBe(env.idp.ssoUrl);
    expect(request.searchParams.get('RelayState')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [sent] = env.idp.requests;
    expect(sent?.xml).toContain(`AssertionConsumerServiceURL="${org.acsUrl}"`);
    expect(sent?.xml).toContain(`<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${org.spEntityId}</saml:Issuer>`);
    // Only hashes and sealed values rest in the table.
    const [state] = await rows(env.t, 'SELECT state_hash, code_verifier_sealed FROM oauth_states');
    expect(state?.code_verifier_sealed).toMatch(/^v1\./);
    expect(state?.code_verifier_sealed).not.toContain(sent?.id);

    // The cross-site POST: no cookie, nothing signed in yet, a 303 to the same ACS as a GET.
    const posted = await postForm(form, form.action);
    expect(posted.status).toBe(303);
    expect(posted.headers.getSetCookie()).toEqual([]);
    const again = locationOf(posted);
    expect(again.origin + again.pathname).toBe(org.acsUrl);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM users WHERE email = ?', [email])).toEqual([{ n: 0 }]);
    expect(await rows(env.t, 'SELECT connection_id FROM saml_assertions')).toEqual([{ connection_id: org.connectionId }]);

    // The browser's own GET carries its canary: signed in, cookies set, back at the app.
    const final = await fetch(again, { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(final.status).toBe(303);
    const back = locationOf(final);
    expect(back.origin + back.pathname).toBe(returnTo);
    expect(Object.fromEntries(back.searchParams)).toEqual({ status: 'authenticated' });
    browser.jar.store(final);
    const session = authenticated(await browser.api.session.refresh.mutate());
    expect(session.user).toMatchObject({ email, name: 'Ada Lovelace', emailVerified: true });
    expect(claimsOf(session.accessToken)).toMatchObject({ sub: session.user.id, org: org.organizationId, org_role: 'member' });
    expect(
      await rows(env.t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [
        org.organizationId,
        session.user.id,
      ]),
    ).toEqual([{ role: 'member' }]);
    expect(await rows(env.t, 'SELECT provider FROM oauth_accounts WHERE user_id = ?', [session.user.id])).toEqual([
      { provider: org.providerId },
    ]);

    // Delivered again (the same GET): the state is spent; with nowhere known to return to, a page says so.
    const replay = await fetch(again, { redirect: 'manual', headers: { cookie: browser.jar.header() } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('The sign-in attempt is not valid');
  });

  it('an existing verified account at the domain is linked and joins; the same NameID signs in to it again', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const existing = await env.t.signUp({ email: `carol@${org.domain}` });
    const browser = env.t.client({ deviceOf: existing.jar });
    const who = person(existing.email);
    const first = await visitSamlIdp(env, browser.api, existing.email, who);
    const { location } = await deliver(first.form, browser.jar);
    expect(location.searchParams.get('status')).toBe('authenticated');
    expect(await rows(env.t, 'SELECT provider, subject FROM oauth_accounts WHERE user_id = ?', [existing.userId])).toEqual([
      { provider: org.providerId, subject: who.nameId },
    ]);
    expect(await rows(env.t, 'SELECT role FROM organization_members WHERE user_id = ?', [existing.userId])).toEqual([{ role: 'member' }]);

    const later = env.t.client({ deviceOf: existing.jar });
    const second = await visitSamlIdp(env, later.api, existing.email, who);
    const again = await deliver(second.form, later.jar);
    expect(again.location.searchParams.get('status')).toBe('authenticated');
    expect(authenticated(await later.api.session.refresh.mutate()).user.id).toBe(existing.userId);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM organization_members WHERE user_id = ?', [existing.userId])).toEqual([{ n: 1 }]);
  });
});

describe('SAML identities outside the verified domains', () => {
  it('answer link_required, and join the account only once its owner signed in and links them (oauth.link)', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const owner = await env.t.signUp();
    const browser = env.t.client({ deviceOf: owner.jar });
    const who = person(owner.email);
    const { form } = await visitSamlIdp(env, browser.api, `someone@${org.domain}`, who);
    const { location } = await deliver(form, browser.jar);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      status: 'link_required',
      provider: org.providerId,
      email: owner.email,
    });
    const linkToken = new URLSearchParams(location.hash.slice(1)).get('linkToken') ?? '';
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM oauth_accounts')).toEqual([{ n: 0 }]);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM organization_members WHERE user_id = ?', [owner.userId])).toEqual([{ n: 0 }]);

    authenticated(await browser.api.auth.login.mutate({ email: owner.email, password: owner.password }));
    expect(await browser.api.oauth.link.mutate({ linkToken })).toEqual({ status: 'linked', provider: org.providerId, email: owner.email });
    expect(await rows(env.t, 'SELECT provider, subject FROM oauth_accounts WHERE user_id = ?', [owner.userId])).toEqual([
      { provider: org.providerId, subject: who.nameId },
    ]);
  });
});
