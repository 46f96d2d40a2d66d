import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { entraUser, errorSchema, oktaUser, patchOpSchema, rows, scimContentType, scimOrganization, userSchema } from './env';

const filter = (expression: string) => `filter=${encodeURIComponent(expression)}`;

describe('SCIM /Users', () => {
  it('creates a member as Okta sends it: a new account without password, its address verified, and the SCIM identity', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const email = `ada.lovelace@${org.domain}`;
    const created = await org.scim('POST', '/Users', oktaUser(email, { externalId: '00uOkta1' }));
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`${t.url}/scim/v2/Users/${id}`);
    expect(created.body).toMatchObject({
      schemas: [userSchema],
      id: expect.stringMatching(/^scu_/),
      externalId: '00uOkta1',
      userName: email,
      name: { givenName: 'ada', familyName: 'lovelace' },
      active: true,
      meta: { resourceType: 'User', location: `${t.url}/scim/v2/Users/${id}`, version: 'W/"1"' },
    });
    expect(Date.parse(created.body.meta.created)).not.toBeNaN();
    expect(created.body.meta.lastModified).toBe(created.body.meta.created);
    expect(created.body).not.toHaveProperty('password');

    const [user] = await rows(t, 'SELECT id, password_hash, email_verified_at, disabled_at FROM users WHERE email = ?', [email]);
    expect(user).toMatchObject({ password_hash: null, disabled_at: null });
    expect(user?.email_verified_at).not.toBeNull();
    const [member] = await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [
      org.organizationId,
      user?.id,
    ]);
    expect(member?.role).toBe('member');
    const [identity] = await rows(t, 'SELECT user_id, external_id, active FROM scim_users WHERE id = ?', [id]);
    expect(identity).toMatchObject({ user_id: user?.id, external_id: '00uOkta1', active: 1 });
    expect(JSON.stringify(await rows(t, 'SELECT * FROM scim_users WHERE id = ?', [id]))).not.toContain('ignored-by-the-service-1');
    const { members } = await org.owner.api.org.get.query({ organizationId: org.organizationId });
    expect(members.map((m) => m.email)).toContain(email);
    const audit = await rows(t, "SELECT type FROM audit_events WHERE organization_id = ? AND type LIKE 'org.%' ORDER BY created_at", [
      org.organizationId,
    ]);
    expect(audit.map((row) => row.type)).toEqual(expect.arrayContaining(['org.member_joined', 'org.scim_user_provisioned']));

    // The same again (case differs: userName is case-insensitive) is a conflict, and changes nothing.
    const again = await org.scim('POST', '/Users', oktaUser(email.toUpperCase()));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ schemas: [errorSchema], status: '409', scimType: 'uniqueness', detail: expect.any(String) });
    expect(await rows(t, 'SELECT id FROM scim_users WHERE organization_id = ?', [org.organizationId])).toHaveLength(1);
  }, 60_000);

  it("refuses an address outside the organization's verified domains, and makes an existing verified account a member", async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const outside = await org.scim('POST', '/Users', entraUser('grace@example.com'));
    expect(outside.status).toBe(400);
    expect(outside.body).toMatchObject({ schemas: [errorSchema], status: '400', scimType: 'invalidValue' });
    expect(await rows(t, "SELECT id FROM users WHERE email = 'grace@example.com'")).toHaveLength(0);

    const existing = await t.signUp({ email: `grace.hopper@${org.domain}` });
    const created = await org.scim('POST', '/Users', entraUser(existing.email));
    expect(created.status).toBe(201);
    const [identity] = await rows(t, 'SELECT user_id FROM scim_users WHERE id = ?', [created.body.id]);
    expect(identity?.user_id).toBe(existing.userId);
    expect(await rows(t, 'SELECT id FROM users WHERE email = ?', [existing.email])).toHaveLength(1);
    const [member] = await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [
      org.organizationId,
      existing.userId,
    ]);
    expect(member?.role).toBe('member');
    // The enterprise extension is accepted and not kept.
    expect(created.body).not.toHaveProperty(['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']);
    // Their own sign-in still works: the account was joined, not replaced.
    expect(await existing.api.auth.me.query()).toMatchObject({ id: existing.userId });
  }, 60_000);

  it('creates one account and one User when the same userName is sent twice at once', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const email = `twice@${org.domain}`;
    const answers = await Promise.all([
      org.scim('POST', '/Users', oktaUser(email)),
      org.scim('POST', '/Users', entraUser(email.toUpperCase())),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
    expect(answers.find((answer) => answer.status === 409)?.body.scimType).toBe('uniqueness');
    expect(await rows(t, 'SELECT id FROM users WHERE email_normalized = ?', [email])).toHaveLength(1);
    expect(await rows(t, 'SELECT id FROM scim_users WHERE organization_id = ?', [org.organizationId])).toHaveLength(1);
  }, 60_000);

  it('finds users by userName (case-insensitively), externalId and id, and pages a list', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await org.scim('POST', '/Users', oktaUser(`person${i}@${org.domain}`, { externalId: `ext-${i}` }));
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const byName = await org.scim('GET', `/Users?${filter(`userName eq "PERSON2@${org.domain.toUpperCase()}"`)}`);
    expect(byName.status).toBe(200);
    expect(byName.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
    });
    expect(byName.body.Resources[0].id).toBe(ids[2]);
    // The core schema's URN may lead the attribute, and attribute names are case-insensitive.
    const byUrn = await org.scim(
      'GET',
      `/Users?${filter(`urn:ietf:params:scim:schemas:core:2.0:User:USERNAME eq "person3@${org.domain}"`)}`,
    );
    expect(byUrn.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids[3]]);
    const byExternal = await org.scim('GET', `/Users?${filter('externalId eq "ext-4"')}`);
    expect(byExternal.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids[4]]);
    const none = await org.scim('GET', `/Users?${filter('userName eq "nobody@example.com"')}`);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });

    const page = await org.scim('GET', '/Users?startIndex=2&count=2');
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: { id: string }) => r.id)).toEqual(ids.slice(1, 3));
    const last = await org.scim('GET', '/Users?startIndex=5&count=10');
    expect(last.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids[4]]);
    const countOnly = await org.scim('GET', '/Users?count=0');
    expect(countOnly.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    const got = await org.scim('GET', `/Users/${ids[0]}`);
    expect(got.status).toBe(200);
    expect(got.body.userName).toBe(`person0@${org.domain}`);
    expect((await org.scim('GET', '/Users/scu_doesnotexist0000')).status).toBe(404);
  }, 60_000);

  it('replaces with PUT and patches as Okta and Entra ID send it; userName does not move', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const email = `linus@${org.domain}`;
    const created = await org.scim('POST', '/Users', entraUser(email));
    const id = created.body.id as string;

    const put = await org.scim(
      'PUT',
      `/Users/${id}`,
      oktaUser(email, { name: { givenName: 'Linus', familyName: 'Torvalds' }, displayName: 'Linus T', externalId: 'okta-9' }),
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      name: { givenName: 'Linus', familyName: 'Torvalds' },
      displayName: 'Linus T',
      externalId: 'okta-9',
      meta: { version: 'W/"2"' },
    });
    expect(put.body.meta.lastModified > put.body.meta.created).toBe(true);

    // Entra ID: op names capitalised, paths, value filters, sub-attributes.
    const entra = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [patchOpSchema],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Linus B. Torvalds' },
        { op: 'Replace', path: 'name.givenName', value: 'Linus Benedict' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: `linus.t@${org.domain}` },
        { op: 'Add', path: 'title', value: 'Maintainer' },
        { op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Kernel' },
        { op: 'Remove', path: 'externalId' },
      ],
    });
    expect(entra.status).toBe(200);
    expect(entra.body).toMatchObject({
      displayName: 'Linus B. Torvalds',
      name: { givenName: 'Linus Benedict', familyName: 'Torvalds' },
      title: 'Maintainer',
      emails: [{ value: `linus.t@${org.domain}`, type: 'work', primary: true }],
    });
    expect(entra.body).not.toHaveProperty('externalId');

    // Okta: no path, the value an object of attributes.
    const okta = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', value: { displayName: 'LT', 'name.familyName': 'T.', nickName: 'linus' } }],
    });
    expect(okta.status).toBe(200);
    expect(okta.body).toMatchObject({ displayName: 'LT', nickName: 'linus', name: { familyName: 'T.' } });

    const [stored] = await rows(t, 'SELECT attributes, version, external_id FROM scim_users WHERE id = ?', [id]);
    expect(stored?.version).toBe(4);
    expect(stored?.external_id).toBeNull();
    const attributes = typeof stored?.attributes === 'string' ? JSON.parse(stored.attributes) : stored?.attributes;
    expect(attributes).toMatchObject({ displayName: 'LT', title: 'Maintainer' });

    const moved = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', path: 'userName', value: `other@${org.domain}` }],
    });
    expect(moved.status).toBe(400);
    expect(moved.body.scimType).toBe('mutability');
    const caseOnly = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', path: 'userName', value: email.toUpperCase() }],
    });
    expect(caseOnly.status).toBe(200);
  }, 60_000);

  it('answers garbage bodies, filters and paths with 400 SCIM errors and changes nothing', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const created = await org.scim('POST', '/Users', oktaUser(`steady@${org.domain}`));
    const id = created.body.id as string;
    const before = await rows(t, 'SELECT * FROM scim_users WHERE organization_id = ?', [org.organizationId]);
    const usersBefore = await rows(t, 'SELECT COUNT(*) AS n FROM users');

    const cases: Array<[string, string, unknown, string | undefined, { raw?: string; contentType?: string }?]> = [
      ['POST', '/Users', undefined, 'invalidSyntax', { raw: '{"userName": ' }],
      ['POST', '/Users', undefined, 'invalidSyntax', { raw: 'userName=x', contentType: 'application/x-www-form-urlencoded' }],
      ['POST', '/Users', [1, 2, 3], 'invalidSyntax'],
      ['POST', '/Users', { schemas: [userSchema] }, 'invalidValue'],
      ['POST', '/Users', { userName: { $gt: '' } }, 'invalidValue'],
      ['POST', '/Users', { userName: 'not an address' }, 'invalidValue'],
      ['POST', '/Users', oktaUser(`x@${org.domain}`, { active: 'maybe' }), 'invalidValue'],
      ['POST', '/Users', oktaUser(`x@${org.domain}`, { displayName: '<script>alert(1)</script>' }), 'invalidValue'],
      ['POST', '/Users', oktaUser(`x@${org.domain}`, { emails: 'x' }), 'invalidValue'],
      ['GET', `/Users?${filter('userName co "a"')}`, undefined, 'invalidFilter'],
      ['GET', `/Users?${filter('password eq "x"')}`, undefined, 'invalidFilter'],
      ['GET', `/Users?${filter('userName eq "unterminated')}`, undefined, 'invalidFilter'],
      ['GET', `/Users?${filter(`userName eq "a" or 1 eq 1`)}`, undefined, 'invalidFilter'],
      ['GET', '/Users?filter=a&filter=b', undefined, 'invalidFilter'],
      ['PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', value: { active: false } }] }, 'invalidSyntax'],
      ['PATCH', `/Users/${id}`, { schemas: [patchOpSchema], Operations: [] }, 'invalidSyntax'],
      ['PATCH', `/Users/${id}`, { schemas: [patchOpSchema], Operations: [{ op: 'move', path: 'active' }] }, 'invalidSyntax'],
      ['PATCH', `/Users/${id}`, { schemas: [patchOpSchema], Operations: [{ op: 'remove' }] }, 'noTarget'],
      ['PATCH', `/Users/${id}`, { schemas: [patchOpSchema], Operations: [{ op: 'replace', path: 'name..x', value: 1 }] }, 'invalidPath'],
      [
        'PATCH',
        `/Users/${id}`,
        { schemas: [patchOpSchema], Operations: [{ op: 'replace', path: 'emails[type co "w"].value', value: 'a' }] },
        'invalidFilter',
      ],
      // One bad operation after a good one: the whole PATCH is refused (RFC 7644 §3.5.2: atomic).
      [
        'PATCH',
        `/Users/${id}`,
        {
          schemas: [patchOpSchema],
          Operations: [
            { op: 'replace', path: 'active', value: 'False' },
            { op: 'replace', path: 'active', value: 'nope' },
          ],
        },
        'invalidValue',
      ],
      ['PATCH', `/Users/${id}`, { schemas: [patchOpSchema], Operations: [{ op: 'remove', path: 'userName' }] }, 'invalidValue'],
    ];
    for (const [method, path, body, scimType, options] of cases) {
      const answer = await org.scim(method, path, body, options ?? {});
      expect({ method, path, body, status: answer.status, scimType: answer.body?.scimType }).toEqual({
        method,
        path,
        body,
        status: 400,
        scimType,
      });
      expect(answer.body.schemas).toEqual([errorSchema]);
      expect(answer.headers.get('content-type')).toContain(scimContentType);
    }
    const huge = await org.scim('POST', '/Users', oktaUser(`big@${org.domain}`, { displayName: 'x'.repeat(200_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.schemas).toEqual([errorSchema]);
    expect((await org.scim('GET', '/Bulk')).status).toBe(404);
    expect((await org.scim('POST', '/ServiceProviderConfig', {})).status).toBe(405);

    expect(await rows(t, 'SELECT * FROM scim_users WHERE organization_id = ?', [org.organizationId])).toEqual(before);
    expect(await rows(t, 'SELECT COUNT(*) AS n FROM users')).toEqual(usersBefore);
  }, 60_000);

  it('serves the discovery documents of RFC 7644 §4', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const config = await org.scim('GET', '/ServiceProviderConfig');
    expect(config.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 100 },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const types = await org.scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect((await org.scim('GET', '/ResourceTypes/User')).body.endpoint).toBe('/Users');
    const schemas = await org.scim('GET', '/Schemas');
    expect(schemas.body.totalResults).toBe(2);
    expect((await org.scim('GET', `/Schemas/${userSchema}`)).body.attributes.map((a: { name: string }) => a.name)).toContain('userName');
  }, 60_000);

  it('DELETE ends the membership and the SCIM identity, and every session of the account', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const person = await t.signUp({ email: `leaver@${org.domain}` });
    const created = await org.scim('POST', '/Users', oktaUser(person.email));
    const deleted = await org.scim('DELETE', `/Users/${created.body.id}`);
    expect(deleted.status).toBe(204);
    expect(await rows(t, 'SELECT id FROM scim_users WHERE id = ?', [created.body.id])).toHaveLength(0);
    expect(
      await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [org.organizationId, person.userId]),
    ).toHaveLength(0);
    expect(await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [person.userId])).toHaveLength(0);
    expect((await org.scim('GET', `/Users/${created.body.id}`)).status).toBe(404);
    expect((await org.scim('DELETE', `/Users/${created.body.id}`)).status).toBe(404);
    // Provisioned again: a new identity of the same account.
    const again = await org.scim('POST', '/Users', oktaUser(person.email));
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(created.body.id);
  }, 60_000);

  it('forgets the SCIM identity with the account when its owner deletes it', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const person = await t.signUp({ email: `gone@${org.domain}` });
    const created = await org.scim('POST', '/Users', oktaUser(person.email));
    const group = await org.scim('POST', '/Groups', { displayName: 'Team', members: [{ value: created.body.id }] });
    const stepUpToken = await stepUpByMail(t, person, 'account_delete');
    await person.api.auth.deleteAccount.mutate({ stepUpToken });
    expect(await rows(t, 'SELECT id FROM scim_users WHERE user_id = ?', [person.userId])).toHaveLength(0);
    expect(await rows(t, 'SELECT * FROM scim_group_members WHERE group_id = ?', [group.body.id])).toHaveLength(0);
    expect((await org.scim('GET', `/Users/${created.body.id}`)).status).toBe(404);
    expect((await org.scim('GET', `/Groups/${group.body.id}`)).body.members).toEqual([]);
    // The address may be provisioned again: a new account.
    const again = await org.scim('POST', '/Users', oktaUser(person.email));
    expect(again.status).toBe(201);
  }, 60_000);
});
