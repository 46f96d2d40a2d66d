import { iamCodeOf, isIamError } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { authenticated, uniqueEmail } from '../harness/server';
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
