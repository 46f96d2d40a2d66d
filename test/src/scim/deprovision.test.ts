import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { meCodeUntil, startInstance } from '../harness/instance';
import { createTestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { oktaUser, patchOpSchema, rows, scimOrganization } from './env';

describe('SCIM deactivation', () => {
  it('disables the account at the verified domain and ends every session at once, on every instance; reactivation restores sign-in', async () => {
    await using t = await createTestServer();
    await using second = await startInstance(t);
    const org = await scimOrganization(t);
    const person = await t.signUp({ email: `bob.smith@${org.domain}` });
    const elsewhere = await t.signInOnNewDevice(person);
    const created = await org.scim('POST', '/Users', oktaUser(person.email));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(await meCodeUntil(second.clientWith(person.accessToken), 'ok')).toBe('ok');

    // Okta's deactivation: no path, a boolean.
    const off = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);

    const [user] = await rows(t, 'SELECT disabled_at, disabled_reason FROM users WHERE id = ?', [person.userId]);
    expect(user?.disabled_at).not.toBeNull();
    expect(await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [person.userId])).toHaveLength(0);
    const [identity] = await rows(t, 'SELECT active, account_disabled FROM scim_users WHERE id = ?', [id]);
    expect(identity).toMatchObject({ active: 0, account_disabled: 1 });
    // The membership stays (the account is disabled), the role with it.
    expect(
      await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [org.organizationId, person.userId]),
    ).toEqual([{ role: 'member' }]);

    expect(await person.api.session.refresh.mutate().catch(iamCodeOf)).toMatch(/^(SESSION_REVOKED|REFRESH_TOKEN_INVALID)$/);
    expect(await person.api.auth.me.query().catch(iamCodeOf)).toBe('SESSION_REVOKED');
    expect(await meCodeUntil(second.clientWith(person.accessToken), 'SESSION_REVOKED')).toBe('SESSION_REVOKED');
    expect(await meCodeUntil(second.clientWith(elsewhere.accessToken), 'SESSION_REVOKED')).toBe('SESSION_REVOKED');
    const { api } = t.client();
    expect(await api.auth.login.mutate({ email: person.email, password: person.password }).catch(iamCodeOf)).toBe('USER_DISABLED');

    // Entra ID's reactivation: a path, the boolean as a string.
    const on = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(on.status).toBe(200);
    expect(on.body.active).toBe(true);
    expect((await rows(t, 'SELECT disabled_at FROM users WHERE id = ?', [person.userId]))[0]?.disabled_at).toBeNull();
    const back = await t.signInOnNewDevice(person);
    expect(await back.api.auth.me.query()).toMatchObject({ id: person.userId });

    const audit = await rows(
      t,
      "SELECT type, user_id, data FROM audit_events WHERE organization_id = ? AND type LIKE 'org.scim_user_%activated'",
      [org.organizationId],
    );
    expect(audit.map((row) => row.type).sort()).toEqual(['org.scim_user_deactivated', 'org.scim_user_reactivated']);
  }, 90_000);

  it('outside a verified domain ends only the membership; never touches the owner, nor lifts an administrator’s disable', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const person = await t.signUp({ email: `carol@${org.domain}` });
    const created = await org.scim('POST', '/Users', oktaUser(person.email));
    const owner = await org.scim('POST', '/Users', oktaUser(org.owner.email));
    expect(owner.status).toBe(201);

    const ownerOff = await org.scim('PUT', `/Users/${owner.body.id}`, oktaUser(org.owner.email, { active: false }));
    expect(ownerOff.status).toBe(400);
    expect(ownerOff.body.scimType).toBe('mutability');
    expect((await rows(t, 'SELECT disabled_at FROM users WHERE id = ?', [org.owner.userId]))[0]?.disabled_at).toBeNull();
    expect((await rows(t, 'SELECT active FROM scim_users WHERE id = ?', [owner.body.id]))[0]?.active).toBe(1);
    expect(await org.owner.api.auth.me.query()).toMatchObject({ id: org.owner.userId });

    // An administrator of the service disabled this one: SCIM's reactivation does not undo that.
    const admin = await t.signUp();
    await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
    const dave = await t.signUp({ email: `dave@${org.domain}` });
    const daveScim = await org.scim('POST', '/Users', oktaUser(dave.email));
    await admin.api.admin.users.disable.mutate({
      userId: dave.userId,
      reason: 'fraud',
      stepUpToken: await stepUpByMail(t, admin, 'admin'),
    });
    for (const active of ['False', 'True']) {
      const answer = await org.scim('PATCH', `/Users/${daveScim.body.id}`, {
        schemas: [patchOpSchema],
        Operations: [{ op: 'Replace', path: 'active', value: active }],
      });
      expect(answer.status).toBe(200);
    }
    expect((await rows(t, 'SELECT disabled_reason FROM users WHERE id = ?', [dave.userId]))[0]?.disabled_reason).toBe('fraud');

    // The organization gives the domain up: it no longer vouches for the address.
    await org.owner.api.sso.domains.remove.mutate({ organizationId: org.organizationId, domain: org.domain });
    const off = await org.scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.status).toBe(200);
    expect((await rows(t, 'SELECT disabled_at FROM users WHERE id = ?', [person.userId]))[0]?.disabled_at).toBeNull();
    expect(
      await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [org.organizationId, person.userId]),
    ).toHaveLength(0);
    expect(await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [person.userId])).toHaveLength(0);
    const again = await t.signInOnNewDevice(person);
    expect(await again.api.auth.me.query()).toMatchObject({ id: person.userId });

    const on = await org.scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [patchOpSchema],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(on.status).toBe(200);
    expect(
      await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [org.organizationId, person.userId]),
    ).toEqual([{ role: 'member' }]);
  }, 90_000);
});
