import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { authenticated } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { claimsOf, createSsoEnv, rows, ssoOrganization, uniqueDomain, visitIdp } from './env';

describe('enterprise SSO through a real OpenID Provider', () => {
  it('a connection: its secret sealed and never answered; discovery names the organization for its domain only', async () => {
    await using env = await createSsoEnv();
    const org = await ssoOrganization(env);
    const listed = await org.owner.api.sso.connections.list.query({ organizationId: org.organizationId });
    expect(listed.connections).toEqual([
      expect.objectContaining({
        id: org.connectionId,
        issuer: env.idp.issuer,
        clientId: env.idp.clientId,
        hasClientSecret: true,
        scopes: ['openid', 'email', 'profile'],
        providerId: org.providerId,
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(env.idp.clientSecret);
    const [row] = await rows(env.t, 'SELECT client_secret_sealed FROM sso_connections');
    expect(row?.client_secret_sealed).toMatch(/^v1\./);
    expect(row?.client_secret_sealed).not.toContain(env.idp.clientSecret);

    const anon = env.t.client().api;
    expect(await anon.sso.discover.mutate({ email: `someone@${org.domain}` })).toEqual({
      sso: { organizationId: org.organizationId, connectionId: org.connectionId },
    });
    expect(await anon.sso.discover.mutate({ email: `someone@${uniqueDomain()}` })).toEqual({ sso: null });
    expect(await anon.sso.authorize.mutate({ email: `someone@${uniqueDomain()}` }).catch(iamCodeOf)).toBe('SSO_NO_CONNECTION');
    // A connection without a step-up is refused.
    expect(
      await org.owner.api.sso.connections.update
        .mutate({ organizationId: org.organizationId, connectionId: org.connectionId, scopes: ['openid'] })
        .catch(iamCodeOf),
    ).toBe('STEP_UP_REQUIRED');
  });

  it('authorize → provider → callback: a new person at the domain is signed in, made a member, and the token carries org', async () => {
    await using env = await createSsoEnv();
    const org = await ssoOrganization(env);
    const email = `ada@${org.domain}`;
    const browser = env.t.client();
    const back = await visitIdp(env, browser.api, email, { email_verified: true, name: 'Ada' });
    expect(back.started).toMatchObject({ organizationId: org.organizationId, connectionId: org.connectionId });
    const request = new URL(back.started.url);
    expect(request.searchParams.get('redirect_uri')).toBe(`${env.t.url}/oauth/callback/${org.providerId}`);
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');

    const result = authenticated(
      await browser.api.oauth.callback.mutate({ provider: org.providerId, code: back.code, state: back.state, iss: back.iss }),
    );
    expect(result.user).toMatchObject({ email, emailVerified: true });
    expect(claimsOf(result.accessToken)).toMatchObject({ sub: result.user.id, org: org.organizationId, org_role: 'member' });
    expect(
      await rows(env.t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [
        org.organizationId,
        result.user.id,
      ]),
    ).toEqual([{ role: 'member' }]);
    expect(await rows(env.t, 'SELECT active_organization_id AS a FROM sessions WHERE id = ?', [claimsOf(result.accessToken).sid])).toEqual([
      { a: org.organizationId },
    ]);
    const joined = await rows(env.t, "SELECT data FROM audit_events WHERE type = 'org.member_joined' AND user_id = ?", [result.user.id]);
    expect(joined).toHaveLength(1);
    expect(JSON.stringify(joined[0]?.data)).toContain('"via":"sso"');

    // The same person again: the same account, still one membership.
    const again = env.t.client({ deviceOf: browser.jar });
    const second = await visitIdp(env, again.api, email, { id: back.accountId, email_verified: true });
    const signedIn = authenticated(
      await again.api.oauth.callback.mutate({ provider: org.providerId, code: second.code, state: second.state, iss: second.iss }),
    );
    expect(signedIn.user.id).toBe(result.user.id);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM organization_members WHERE user_id = ?', [result.user.id])).toEqual([{ n: 1 }]);
  });

  it('an address the IdP did not verify makes an unverified account; one outside the verified domains is never joined or created', async () => {
    await using env = await createSsoEnv();
    const org = await ssoOrganization(env);
    const unverified = env.t.client();
    const back = await visitIdp(env, unverified.api, `bob@${org.domain}`, { email_verified: false });
    const result = authenticated(
      await unverified.api.oauth.callback.mutate({ provider: org.providerId, code: back.code, state: back.state, iss: back.iss }),
    );
    expect(result.user.emailVerified).toBe(false);

    // The IdP asserts an address at a domain the organization never verified, of an existing verified account: no takeover.
    const victim = await env.t.signUp();
    const attacker = env.t.client();
    const started = await attacker.api.sso.authorize.mutate({ organizationId: org.organizationId });
    env.idp.accounts.set('mallory', { email: victim.email, email_verified: true });
    const redirect = await env.idp.authorize(started.url, 'mallory');
    const answer = await attacker.api.oauth.callback.mutate({
      provider: org.providerId,
      code: redirect.searchParams.get('code') ?? '',
      state: redirect.searchParams.get('state') ?? '',
      iss: redirect.searchParams.get('iss') ?? undefined,
    });
    expect(answer.status).toBe('link_required');
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM oauth_accounts WHERE user_id = ?', [victim.userId])).toEqual([{ n: 0 }]);
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM organization_members WHERE user_id = ?', [victim.userId])).toEqual([{ n: 0 }]);
  });

  it('an existing verified account at the domain is linked and joins; a tampered state and a deleted connection are refused', async () => {
    await using env = await createSsoEnv();
    const org = await ssoOrganization(env);
    const existing = await env.t.signUp({ email: `carol@${org.domain}` });
    const browser = env.t.client({ deviceOf: existing.jar });
    const back = await visitIdp(env, browser.api, existing.email, { email_verified: true });

    // A tampered state: refused, nothing linked.
    const tampered = `${back.state.slice(0, -2)}xx`;
    expect(
      await browser.api.oauth.callback
        .mutate({ provider: org.providerId, code: back.code, state: tampered, iss: back.iss })
        .catch(iamCodeOf),
    ).toBe('OAUTH_STATE_INVALID');
    expect(await rows(env.t, 'SELECT COUNT(*) AS n FROM oauth_accounts')).toEqual([{ n: 0 }]);

    const result = authenticated(
      await browser.api.oauth.callback.mutate({ provider: org.providerId, code: back.code, state: back.state, iss: back.iss }),
    );
    expect(result.user.id).toBe(existing.userId);
    expect(await rows(env.t, 'SELECT provider FROM oauth_accounts WHERE user_id = ?', [existing.userId])).toEqual([
      { provider: org.providerId },
    ]);
    expect(await rows(env.t, 'SELECT role FROM organization_members WHERE user_id = ?', [existing.userId])).toEqual([{ role: 'member' }]);

    // Deleted between the start and the callback: the flow is refused; afterwards it does not start.
    const later = env.t.client({ deviceOf: existing.jar });
    const pending = await visitIdp(env, later.api, existing.email, { email_verified: true });
    const stepUpToken = await stepUpByMail(env.t, org.owner, 'org_sso');
    expect(
      await org.owner.api.sso.connections.delete.mutate({
        organizationId: org.organizationId,
        connectionId: org.connectionId,
        stepUpToken,
      }),
    ).toEqual({ status: 'deleted' });
    expect(
      await later.api.oauth.callback
        .mutate({ provider: org.providerId, code: pending.code, state: pending.state, iss: pending.iss })
        .catch(iamCodeOf),
    ).toBe('INVALID_INPUT');
    expect(await later.api.sso.authorize.mutate({ email: existing.email }).catch(iamCodeOf)).toBe('SSO_NO_CONNECTION');
    expect(await later.api.oauth.authorize.mutate({ provider: org.providerId }).catch(iamCodeOf)).toBe('INVALID_INPUT');
    const page = await fetch(`${env.t.url}/oauth/callback/${org.providerId}?code=x&state=y`);
    expect(page.status).toBe(404);
  });
});
