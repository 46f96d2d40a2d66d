import { iamCodeOf, isIamError } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { authenticated, uniqueEmail } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { createSsoEnv, rows, ssoOrganization } from './env';

describe('required SSO', () => {
  it('only the owner turns it on, only with a connection and a verified domain', async () => {
    await using env = await createSsoEnv();
    const bare = await env.t.signUp();
    const { organization } = await bare.api.org.create.mutate({ name: 'Bare' });
    expect(await bare.api.org.update.mutate({ organizationId: organization.id, requireSso: true }).catch(iamCodeOf)).toBe(
      'SSO_NO_CONNECTION',
    );
    expect(await rows(env.t, 'SELECT require_sso FROM organizations WHERE id = ?', [organization.id])).toEqual([{ require_sso: 0 }]);

    const org = await ssoOrganization(env);
    const updated = await org.owner.api.org.update.mutate({ organizationId: org.organizationId, requireSso: true });
    expect(updated.organization).toMatchObject({ id: org.organizationId, requireSso: true });
    expect(await rows(env.t, 'SELECT require_sso FROM organizations WHERE id = ?', [org.organizationId])).toEqual([{ require_sso: 1 }]);
    expect((await org.owner.api.org.get.query({ organizationId: org.organizationId })).organization.requireSso).toBe(true);
    // The connection view names the redirect URI the provider allows.
    const [connection] = (await org.owner.api.sso.connections.list.query({ organizationId: org.organizationId })).connections;
    expect(connection).toMatchObject({ type: 'oidc', redirectUri: `${env.t.url}/oauth/callback/${org.providerId}` });

    // While required, the connection is the members' way in: it cannot be deleted (even with a step-up).
    const stepUpToken = await stepUpByMail(env.t, org.owner, 'org_sso');
    const attempt = { organizationId: org.organizationId, connectionId: org.connectionId, stepUpToken };
    expect(await org.owner.api.sso.connections.delete.mutate(attempt).catch(iamCodeOf)).toBe('SSO_CONNECTION_IN_USE');
    expect(await rows(env.t, 'SELECT id FROM sso_connections WHERE organization_id = ?', [org.organizationId])).toEqual([
      { id: org.connectionId },
    ]);
    // Once the requirement is off, it can.
    await org.owner.api.org.update.mutate({ organizationId: org.organizationId, requireSso: false });
    expect((await org.owner.api.org.get.query({ organizationId: org.organizationId })).organization.requireSso).toBe(false);
    expect(await org.owner.api.sso.connections.delete.mutate(attempt)).toEqual({ status: 'deleted' });
    expect(await rows(env.t, 'SELECT id FROM sso_connections WHERE organization_id = ?', [org.organizationId])).toEqual([]);
  });

  it("refuses a member's password sign-in with SSO_REQUIRED after the right password, while others sign in normally", async () => {
    await using env = await createSsoEnv();
    const org = await ssoOrganization(env);
    const member = await env.t.signUp({ email: `dana@${org.domain}` });
    // The member joins (by invitation, as any member does), then the owner requires SSO.
    await env.t.sql.query("INSERT INTO organization_members (organization_id, user_id, role, created_at) VALUES (?, ?, 'member', NOW(3))", [
      org.organizationId,
      member.userId,
    ]);
    await org.owner.api.org.update.mutate({ organizationId: org.organizationId, requireSso: true });

    const device = env.t.client({ deviceOf: member.jar });
    const refused = await device.api.auth.login.mutate({ email: member.email, password: member.password }).catch((error: unknown) => error);
    expect(isIamError(refused) && refused.data?.iamCode).toBe('SSO_REQUIRED');
    expect(isIamError(refused) && (refused.data as { organizationId?: string }).organizationId).toBe(org.organizationId);
    // A wrong password is a wrong password: the requirement is not revealed before the password is.
    expect(await device.api.auth.login.mutate({ email: member.email, password: 'not the password at all 1' }).catch(iamCodeOf)).toBe(
      'INVALID_CREDENTIALS',
    );
    const audits = await rows(env.t, "SELECT data FROM audit_events WHERE type = 'login.failed' AND user_id = ?", [member.userId]);
    expect(audits.map((row) => JSON.stringify(row.data))).toEqual(expect.arrayContaining([expect.stringContaining('sso_required')]));

    // Not a member, at another domain: a normal sign-in.
    const other = await env.t.signUp({ email: uniqueEmail('other') });
    const otherDevice = env.t.client({ deviceOf: other.jar });
    expect(authenticated(await otherDevice.api.auth.login.mutate({ email: other.email, password: other.password })).user.id).toBe(
      other.userId,
    );
    // At the domain but not a member: a normal sign-in too (the organization governs its members).
    const outsider = await env.t.signUp({ email: `erin@${org.domain}` });
    const outsiderDevice = env.t.client({ deviceOf: outsider.jar });
    expect(authenticated(await outsiderDevice.api.auth.login.mutate({ email: outsider.email, password: outsider.password })).user.id).toBe(
      outsider.userId,
    );
  });
});

describe('required SSO, every other way in', () => {
  it('refuses passwordless and another provider for the member, lets the organization SSO in, and only the owner may set it', async () => {
    await using env = await createSsoEnv({ socialProvider: true });
    const org = await ssoOrganization(env);
    const member = await env.t.signUp({ email: `fay@${org.domain}` });
    await env.t.sql.query("INSERT INTO organization_members (organization_id, user_id, role, created_at) VALUES (?, ?, 'admin', NOW(3))", [
      org.organizationId,
      member.userId,
    ]);
    // An admin may not set the policy; the owner may.
    expect(await member.api.org.update.mutate({ organizationId: org.organizationId, requireSso: true }).catch(iamCodeOf)).toBe(
      'ORG_FORBIDDEN',
    );
    await org.owner.api.org.update.mutate({ organizationId: org.organizationId, requireSso: true });

    // Passwordless: the code is right, the sign-in is still refused.
    const device = env.t.client({ deviceOf: member.jar });
    const before = env.t.mail.messages.length;
    const requested = await device.api.auth.requestSignIn.mutate({ email: member.email });
    let seen = 0;
    const mail = await env.t.mail.waitFor((message) => seen++ >= before && message.to.includes(member.email));
    const code = /\b(\d{6,10})\b/.exec(mail.text ?? '')?.[1] ?? '';
    expect(await device.api.auth.signInWithCode.mutate({ challengeId: requested.challengeId, code }).catch(iamCodeOf)).toBe('SSO_REQUIRED');

    // Another provider (social sign-in) for the same address: refused too.
    const social = env.t.client({ deviceOf: member.jar });
    const { url } = await social.api.oauth.authorize.mutate({ provider: 'corp' });
    env.idp.accounts.set('fay-at-corp', { email: member.email, email_verified: true });
    const back = await env.idp.authorize(url, 'fay-at-corp');
    expect(
      await social.api.oauth.callback
        .mutate({
          provider: 'corp',
          code: back.searchParams.get('code') ?? '',
          state: back.searchParams.get('state') ?? '',
          iss: back.searchParams.get('iss') ?? undefined,
        })
        .catch(iamCodeOf),
    ).toBe('SSO_REQUIRED');

    // The organization's own connection signs them in, acting in the organization.
    const sso = env.t.client({ deviceOf: member.jar });
    const started = await sso.api.sso.authorize.mutate({ organizationId: org.organizationId });
    env.idp.accounts.set('fay-at-sso', { email: member.email, email_verified: true });
    const redirect = await env.idp.authorize(started.url, 'fay-at-sso');
    const result = authenticated(
      await sso.api.oauth.callback.mutate({
        provider: org.providerId,
        code: redirect.searchParams.get('code') ?? '',
        state: redirect.searchParams.get('state') ?? '',
        iss: redirect.searchParams.get('iss') ?? undefined,
      }),
    );
    expect(result.user.id).toBe(member.userId);
    // The member kept their role.
    expect(await rows(env.t, 'SELECT role FROM organization_members WHERE user_id = ?', [member.userId])).toEqual([{ role: 'admin' }]);

    // Their address is the organization's now: they cannot move it off the domain, out of the policy.
    const emailStepUp = await stepUpByMail(env.t, member, 'email_change');
    expect(
      await member.api.auth.requestEmailChange.mutate({ newEmail: uniqueEmail('fay'), stepUpToken: emailStepUp }).catch(iamCodeOf),
    ).toBe('EMAIL_MANAGED_BY_ORGANIZATION');

    // The secret never reached an answer, an audit row or a queued mail.
    const secret = env.idp.clientSecret;
    const dump = JSON.stringify([
      await rows(env.t, 'SELECT data FROM audit_events'),
      await rows(env.t, 'SELECT payload FROM outbox_messages'),
      await org.owner.api.sso.connections.list.query({ organizationId: org.organizationId }),
      await org.owner.api.org.audit.query({ organizationId: org.organizationId }),
    ]);
    expect(dump).not.toContain(secret);
  });
});
