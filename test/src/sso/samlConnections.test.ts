import { iamCodeOf, isIamError } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { stepUpByMail } from '../harness/stepUp';
import { rows } from './env';
import { createSamlEnv, deliver, person, samlOrganization, visitSamlIdp } from './samlEnv';

describe('SAML connections', () => {
  it('create, list, update and delete behind the step-up; certificates checked; the view answers what to give the IdP', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const { owner, organizationId } = org;
    const listed = await owner.api.sso.connections.list.query({ organizationId });
    expect(listed.connections).toHaveLength(1);
    const [connection] = listed.connections;
    if (connection?.type !== 'saml') throw new Error('expected a SAML connection');
    const spEntityId = `${env.t.url}/sso/saml/${org.providerId}`;
    expect(connection).toMatchObject({
      id: org.connectionId,
      type: 'saml',
      idpEntityId: env.idp.entityId,
      idpSsoUrl: env.idp.ssoUrl,
      emailAttribute: null,
      spEntityId,
      acsUrl: `${spEntityId}/acs`,
      metadataUrl: `${spEntityId}/metadata`,
      providerId: org.providerId,
    });
    expect(connection.certificates).toEqual([
      {
        sha256Fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
        subject: 'CN=configured.idp.test',
        notAfter: expect.any(Date),
      },
    ]);
    const [row] = await rows(env.t, 'SELECT type, client_id, scopes, saml_sso_url FROM sso_connections');
    expect(row).toEqual({ type: 'saml', client_id: null, scopes: null, saml_sso_url: env.idp.ssoUrl });

    // A certificate that is not one, plain http beyond loopback, a field of OIDC, no step-up: refused, nothing changed.
    const stepUpToken = await stepUpByMail(env.t, owner, 'org_sso');
    const refused = await owner.api.sso.connections.update
      .mutate({ organizationId, connectionId: org.connectionId, idpCertificates: [env.idp.certificate, 'not a certificate'], stepUpToken })
      .catch((error: unknown) => error);
    expect(isIamError(refused) && refused.data?.iamCode).toBe('INVALID_INPUT');
    expect(isIamError(refused) && refused.message).toContain('idpCertificates[1]');
    expect(
      await owner.api.sso.connections.update
        .mutate({ organizationId, connectionId: org.connectionId, idpSsoUrl: 'http://idp.example.com/sso', stepUpToken })
        .catch(iamCodeOf),
    ).toBe('INVALID_INPUT');
    expect(
      await owner.api.sso.connections.update
        .mutate({ organizationId, connectionId: org.connectionId, clientId: 'nope', stepUpToken })
        .catch(iamCodeOf),
    ).toBe('INVALID_INPUT');
    expect(
      await owner.api.sso.connections.update
        .mutate({ organizationId, connectionId: org.connectionId, emailAttribute: 'mail' })
        .catch(iamCodeOf),
    ).toBe('STEP_UP_REQUIRED');

    // A rotation: the next certificate joins the current one; a second connection is refused.
    const rotated = await owner.api.sso.connections.update.mutate({
      organizationId,
      connectionId: org.connectionId,
      idpCertificates: [env.idp.certificate, env.idp.strangerCertificate],
      emailAttribute: 'mail',
      stepUpToken: await stepUpByMail(env.t, owner, 'org_sso'),
    });
    expect(rotated.connection).toMatchObject({ type: 'saml', emailAttribute: 'mail' });
    expect(rotated.connection.type === 'saml' && rotated.connection.certificates.map((c) => c.subject)).toEqual([
      'CN=configured.idp.test',
      'CN=stranger.idp.test',
    ]);
    expect(
      await owner.api.sso.connections.create
        .mutate({
          organizationId,
          type: 'saml',
          idpEntityId: 'https://other.example/idp',
          idpSsoUrl: 'https://other.example/sso',
          idpCertificates: [env.idp.certificate],
          stepUpToken: await stepUpByMail(env.t, owner, 'org_sso'),
        })
        .catch(iamCodeOf),
    ).toBe('INVALID_INPUT');
    const audited = await rows(env.t, "SELECT data FROM audit_events WHERE type = 'org.updated' AND organization_id = ?", [organizationId]);
    expect(audited.map((entry) => JSON.stringify(entry.data))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"connection_created"'),
        expect.stringContaining('"changed":["idpCertificates","emailAttribute"]'),
      ]),
    );

    // Deleted: the metadata and the ACS are gone, sso.authorize finds no connection.
    await owner.api.sso.connections.delete.mutate({
      organizationId,
      connectionId: org.connectionId,
      stepUpToken: await stepUpByMail(env.t, owner, 'org_sso'),
    });
    expect((await fetch(org.metadataUrl)).status).toBe(404);
    expect(await env.t.client().api.sso.authorize.mutate({ organizationId }).catch(iamCodeOf)).toBe('SSO_NO_CONNECTION');

    // An OpenID Connect connection in its place takes no SAML field.
    const { connection: oidc } = await owner.api.sso.connections.create.mutate({
      organizationId,
      type: 'oidc',
      issuer: 'https://idp.example.com',
      clientId: 'iam',
      stepUpToken: await stepUpByMail(env.t, owner, 'org_sso'),
    });
    expect(oidc).toMatchObject({ type: 'oidc', issuer: 'https://idp.example.com', clientId: 'iam', hasClientSecret: false });
    expect(
      await owner.api.sso.connections.update
        .mutate({
          organizationId,
          connectionId: oidc.id,
          idpSsoUrl: env.idp.ssoUrl,
          stepUpToken: await stepUpByMail(env.t, owner, 'org_sso'),
        })
        .catch(iamCodeOf),
    ).toBe('INVALID_INPUT');
  });

  it('serves the SP metadata with the entity ID, the ACS and signed assertions wanted; discovery names the connection', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const metadata = await fetch(org.metadataUrl);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
    const xml = await metadata.text();
    expect(xml).toContain(`entityID="${org.spEntityId}"`);
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(xml).toContain('AuthnRequestsSigned="false"');
    expect(xml).toContain('<NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</NameIDFormat>');
    expect(xml).toMatch(
      new RegExp(`<AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="${org.acsUrl}"`),
    );
    expect((await fetch(`${env.t.url}/sso/saml/sso_nothinghere0000000000/metadata`)).status).toBe(404);
    expect(await env.t.client().api.sso.discover.mutate({ email: `someone@${org.domain}` })).toEqual({
      sso: { organizationId: org.organizationId, connectionId: org.connectionId },
    });
    // The OAuth routes do not know a SAML connection.
    expect(await env.t.client().api.oauth.authorize.mutate({ provider: org.providerId }).catch(iamCodeOf)).toBe('INVALID_INPUT');
  });

  it('required SSO with a SAML connection: the password is refused with SSO_REQUIRED, SAML signs the member in', async () => {
    await using env = await createSamlEnv();
    const org = await samlOrganization(env);
    const member = await env.t.signUp({ email: `dana@${org.domain}` });
    await env.t.sql.query("INSERT INTO organization_members (organization_id, user_id, role, created_at) VALUES (?, ?, 'member', NOW(3))", [
      org.organizationId,
      member.userId,
    ]);
    const updated = await org.owner.api.org.update.mutate({ organizationId: org.organizationId, requireSso: true });
    expect(updated.organization).toMatchObject({ requireSso: true });

    const device = env.t.client({ deviceOf: member.jar });
    expect(await device.api.auth.login.mutate({ email: member.email, password: member.password }).catch(iamCodeOf)).toBe('SSO_REQUIRED');
    const { form } = await visitSamlIdp(env, device.api, member.email, person(member.email));
    const { location } = await deliver(form, device.jar);
    expect(location.searchParams.get('status')).toBe('authenticated');
    expect(await rows(env.t, 'SELECT provider FROM oauth_accounts WHERE user_id = ?', [member.userId])).toEqual([
      { provider: org.providerId },
    ]);
  });
});
