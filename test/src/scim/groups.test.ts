import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { authenticated, createTestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { groupSchema, oktaUser, patchOpSchema, rows, scimOrganization } from './env';

function orgRoleOf(accessToken: string): string | undefined {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { org_role?: string };
  return payload.org_role;
}

describe('SCIM /Groups and roles', () => {
  it('give the role of a mapped group: visible in org.get and, after a refresh, in org_role; the owner never changes', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const { owner, organizationId } = org;
    const alice = await t.signUp({ email: `alice@${org.domain}` });
    const bob = await t.signUp({ email: `bob@${org.domain}` });
    const ids: Record<string, string> = {};
    for (const [name, email] of [
      ['alice', alice.email],
      ['bob', bob.email],
      ['owner', owner.email],
    ] as const) {
      const created = await org.scim('POST', '/Users', oktaUser(email));
      expect(created.status).toBe(201);
      ids[name] = created.body.id;
    }
    const roleOf = async (userId: string) =>
      (await owner.api.org.get.query({ organizationId })).members.find((member) => member.userId === userId)?.role;

    // The mapping may come first; it needs the step-up.
    expect(await owner.api.sso.scim.mapGroup.mutate({ organizationId, displayName: 'Okta Admins', role: 'admin' }).catch(iamCodeOf)).toBe(
      'STEP_UP_REQUIRED',
    );
    await owner.api.sso.scim.mapGroup.mutate({
      organizationId,
      displayName: 'okta admins',
      role: 'admin',
      stepUpToken: await stepUpByMail(t, owner, 'org_sso'),
    });
    await alice.api.org.switch.mutate({ organizationId });
    expect(orgRoleOf(authenticated(await alice.api.session.refresh.mutate()).accessToken)).toBe('member');

    // Okta's group push: the group, then its members added by PATCH.
    const group = await org.scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'Okta Admins', members: [] });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({
      id: expect.stringMatching(/^scg_/),
      displayName: 'Okta Admins',
      members: [],
      meta: { resourceType: 'Group' },
    });
    const groupId = group.body.id as string;
    const added = await org.scim('PATCH', `/Groups/${groupId}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'add', path: 'members', value: [{ value: ids.alice, display: alice.email }, { value: ids.owner }] }],
    });
    expect(added.status).toBe(200);
    expect(added.body.members.map((m: { value: string }) => m.value).sort()).toEqual([ids.alice, ids.owner].sort());
    expect(await roleOf(alice.userId)).toBe('admin');
    expect(await roleOf(owner.userId)).toBe('owner');
    expect(orgRoleOf(authenticated(await alice.api.session.refresh.mutate()).accessToken)).toBe('admin');

    // Okta's removal: a value filter in the path.
    const removed = await org.scim('PATCH', `/Groups/${groupId}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'remove', path: `members[value eq "${ids.alice}"]` }],
    });
    expect(removed.status).toBe(200);
    expect(await roleOf(alice.userId)).toBe('member');
    expect(orgRoleOf(authenticated(await alice.api.session.refresh.mutate()).accessToken)).toBe('member');

    // Entra ID: capitalised ops, members as values; an unmapped group gives nothing of its own.
    const engineering = await org.scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'Engineering', externalId: 'aad-1' });
    for (const target of [groupId, engineering.body.id as string]) {
      const answer = await org.scim('PATCH', `/Groups/${target}`, {
        schemas: [patchOpSchema],
        Operations: [{ op: 'Add', path: 'members', value: [{ value: ids.bob }] }],
      });
      expect(answer.status).toBe(200);
    }
    expect(await roleOf(bob.userId)).toBe('admin');
    const entraRemove = await org.scim('PATCH', `/Groups/${groupId}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: ids.bob }] }],
    });
    expect(entraRemove.status).toBe(200);
    expect(await roleOf(bob.userId)).toBe('member');

    // A rename (Okta: no path) moves the group out of its mapping; PUT back into it; DELETE out again.
    await org.scim('PATCH', `/Groups/${groupId}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'add', path: 'members', value: [{ value: ids.bob }] }],
    });
    expect(await roleOf(bob.userId)).toBe('admin');
    const renamed = await org.scim('PATCH', `/Groups/${groupId}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Former Admins' } }],
    });
    expect(renamed.body.displayName).toBe('Former Admins');
    expect(await roleOf(bob.userId)).toBe('member');
    const put = await org.scim('PUT', `/Groups/${groupId}`, {
      schemas: [groupSchema],
      displayName: 'Okta Admins',
      members: [{ value: ids.bob }],
    });
    expect(put.status).toBe(200);
    expect(await roleOf(bob.userId)).toBe('admin');
    // Unmapping the name (by the organization) takes it back at once.
    await owner.api.sso.scim.mapGroup.mutate({
      organizationId,
      displayName: 'Okta Admins',
      role: null,
      stepUpToken: await stepUpByMail(t, owner, 'org_sso'),
    });
    expect(await roleOf(bob.userId)).toBe('member');
    await owner.api.sso.scim.mapGroup.mutate({
      organizationId,
      displayName: 'Okta Admins',
      role: 'admin',
      stepUpToken: await stepUpByMail(t, owner, 'org_sso'),
    });
    expect(await roleOf(bob.userId)).toBe('admin');
    expect((await org.scim('DELETE', `/Groups/${groupId}`)).status).toBe(204);
    expect(await roleOf(bob.userId)).toBe('member');
    expect(await rows(t, 'SELECT * FROM scim_group_members WHERE group_id = ?', [groupId])).toHaveLength(0);
    expect(await roleOf(owner.userId)).toBe('owner');

    const { mappings, groups } = await owner.api.sso.scim.groupRoles.query({ organizationId });
    expect(mappings).toEqual([expect.objectContaining({ displayName: 'Okta Admins', role: 'admin' })]);
    expect(groups).toEqual([{ id: engineering.body.id, displayName: 'Engineering', members: 1 }]);

    const changes = await rows(t, "SELECT data FROM audit_events WHERE organization_id = ? AND type = 'org.role_changed'", [
      organizationId,
    ]);
    expect(changes.length).toBeGreaterThanOrEqual(8);
  }, 90_000);

  it('find groups by displayName, leave members out on request, and refuse duplicates and garbage', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const user = await org.scim('POST', '/Users', oktaUser(`eve@${org.domain}`));
    const created = await org.scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'Sales', members: [{ value: user.body.id }] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${t.url}/scim/v2/Groups/${created.body.id}`);
    expect(created.body.members).toEqual([
      { value: user.body.id, display: `eve@${org.domain}`, $ref: `${t.url}/scim/v2/Users/${user.body.id}` },
    ]);

    const found = await org.scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "SALES"')}`);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id: created.body.id, displayName: 'Sales' }] });
    expect(found.body.Resources[0]).not.toHaveProperty('members');
    expect((await org.scim('GET', `/Groups/${created.body.id}`)).body.members).toHaveLength(1);

    const duplicate = await org.scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'sales' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.scimType).toBe('uniqueness');
    for (const [body, scimType] of [
      [{ schemas: [groupSchema] }, 'invalidValue'],
      [{ displayName: 'X', members: [{ display: 'no value' }] }, 'invalidValue'],
      [{ displayName: 'X', members: [{ value: 'scu_unknown00000000' }] }, 'invalidValue'],
      ['"just a string"', 'invalidSyntax'],
    ] as const) {
      const answer = await org.scim('POST', '/Groups', body);
      expect({ body, status: answer.status, scimType: answer.body.scimType }).toEqual({ body, status: 400, scimType });
    }
    const badPatch = await org.scim('PATCH', `/Groups/${created.body.id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', path: 'members[display eq "x"]', value: [] }],
    });
    expect(badPatch.status).toBe(400);
    expect(await rows(t, 'SELECT display_name FROM scim_groups WHERE organization_id = ?', [org.organizationId])).toEqual([
      { display_name: 'Sales' },
    ]);
    expect(await rows(t, 'SELECT scim_user_id FROM scim_group_members WHERE group_id = ?', [created.body.id])).toHaveLength(1);
  }, 60_000);
});
