import { createHash } from 'node:crypto';
import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { createTestServer, linkTokenFrom } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { errorSchema, oktaUser, rows, scimOrganization, scimRequest } from './env';

describe('SCIM tokens (sso.scim.*)', () => {
  it('need the org_sso step-up, are shown once, kept only as a hash, audited, and capped for rotation', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const { owner, organizationId } = org;
    expect(org.token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);

    expect(await owner.api.sso.scim.createToken.mutate({ organizationId }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');

    const stored = await rows(t, 'SELECT * FROM scim_tokens WHERE organization_id = ?', [organizationId]);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token_hash).toBe(createHash('sha256').update(org.token).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(org.token);

    const { tokens, baseUrl } = await owner.api.sso.scim.listTokens.query({ organizationId });
    expect(baseUrl).toBe(`${t.url}/scim/v2`);
    expect(tokens).toEqual([expect.objectContaining({ id: org.tokenId, name: 'Okta', prefix: org.token.slice(0, 13), revokedAt: null })]);
    expect(JSON.stringify(tokens)).not.toContain(org.token);

    // Two more for rotation, then the cap.
    for (let i = 0; i < 2; i++) {
      const stepUpToken = await stepUpByMail(t, owner, 'org_sso');
      await owner.api.sso.scim.createToken.mutate({ organizationId, stepUpToken });
    }
    const stepUpToken = await stepUpByMail(t, owner, 'org_sso');
    expect(await owner.api.sso.scim.createToken.mutate({ organizationId, stepUpToken }).catch(iamCodeOf)).toBe('SCIM_TOKEN_LIMIT');
    const audit = await rows(t, "SELECT data FROM audit_events WHERE organization_id = ? AND type = 'org.scim_token_created'", [
      organizationId,
    ]);
    expect(audit).toHaveLength(3);
    expect(JSON.stringify(audit)).not.toContain(org.token);
  }, 60_000);

  it('are for admins and the owner: a member is refused, an outsider does not see the organization', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const member = await t.signUp();
    const before = t.mail.messages.length;
    await org.owner.api.org.invite.mutate({ organizationId: org.organizationId, email: member.email, role: 'member' });
    let seen = 0;
    const mail = await t.mail.waitFor((m) => seen++ >= before && m.to.includes(member.email) && m.tags.template === 'org_invitation');
    await member.api.org.acceptInvitation.mutate({ token: linkTokenFrom(mail) });
    const outsider = await t.signUp();
    expect(await member.api.sso.scim.listTokens.query({ organizationId: org.organizationId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await outsider.api.sso.scim.listTokens.query({ organizationId: org.organizationId }).catch(iamCodeOf)).toBe('NOT_FOUND');
    const stepUpToken = await stepUpByMail(t, member, 'org_sso');
    expect(await member.api.sso.scim.createToken.mutate({ organizationId: org.organizationId, stepUpToken }).catch(iamCodeOf)).toBe(
      'ORG_FORBIDDEN',
    );
  }, 60_000);

  it('authenticate every request: none, a wrong one and a revoked one are 401 with WWW-Authenticate: Bearer', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);

    const none = await scimRequest(t, 'GET', '/Users');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(none.body).toMatchObject({ schemas: [errorSchema], status: '401' });

    const wrong = await scimRequest(t, 'GET', '/Users', { token: `scim_${'A'.repeat(43)}` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer .*invalid_token/);
    const garbage = await scimRequest(t, 'GET', '/Users', { token: 'not-a-token' });
    expect(garbage.status).toBe(401);

    expect((await org.scim('GET', '/ServiceProviderConfig')).status).toBe(200);
    const stepUpToken = await stepUpByMail(t, org.owner, 'org_sso');
    await org.owner.api.sso.scim.revokeToken.mutate({ organizationId: org.organizationId, tokenId: org.tokenId, stepUpToken });
    // At once: every request reads the token's row.
    const revoked = await org.scim('POST', '/Users', oktaUser(`late@${org.domain}`));
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ schemas: [errorSchema], status: '401' });
    expect(await rows(t, 'SELECT id FROM scim_users WHERE organization_id = ?', [org.organizationId])).toHaveLength(0);
    const audit = await rows(t, "SELECT data FROM audit_events WHERE organization_id = ? AND type = 'org.scim_token_revoked'", [
      org.organizationId,
    ]);
    expect(audit).toHaveLength(1);
  }, 60_000);

  it("of one organization neither see nor touch another organization's users and groups", async () => {
    await using t = await createTestServer();
    const a = await scimOrganization(t);
    const b = await scimOrganization(t);
    const created = await a.scim('POST', '/Users', oktaUser(`ada.lovelace@${a.domain}`));
    expect(created.status).toBe(201);
    const group = await a.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Admins' });
    expect(group.status).toBe(201);
    const id = created.body.id as string;

    expect((await b.scim('GET', `/Users/${id}`)).status).toBe(404);
    expect((await b.scim('GET', '/Users')).body.totalResults).toBe(0);
    expect((await b.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "ada.lovelace@${a.domain}"`)}`)).body.totalResults).toBe(
      0,
    );
    const patch = await b.scim('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(patch.status).toBe(404);
    expect((await b.scim('PUT', `/Users/${id}`, oktaUser(`ada.lovelace@${a.domain}`, { active: false }))).status).toBe(404);
    expect((await b.scim('DELETE', `/Users/${id}`)).status).toBe(404);
    expect((await b.scim('GET', `/Groups/${group.body.id}`)).status).toBe(404);
    expect((await b.scim('DELETE', `/Groups/${group.body.id}`)).status).toBe(404);
    // Nor put them in its groups, nor create them (the domain is a's).
    const foreign = await b.scim('POST', '/Groups', { displayName: 'Stolen', members: [{ value: id }] });
    expect(foreign.status).toBe(400);
    expect(foreign.body.scimType).toBe('invalidValue');
    const outside = await b.scim('POST', '/Users', oktaUser(`grace@${a.domain}`));
    expect(outside.status).toBe(400);
    expect(outside.body.scimType).toBe('invalidValue');

    const [row] = await rows(t, 'SELECT active, organization_id FROM scim_users WHERE id = ?', [id]);
    expect(row).toMatchObject({ active: 1, organization_id: a.organizationId });
    expect(await rows(t, 'SELECT id FROM scim_groups WHERE organization_id = ?', [b.organizationId])).toHaveLength(0);
  }, 60_000);
});
