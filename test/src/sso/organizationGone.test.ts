import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { stepUpByMail } from '../harness/stepUp';
import { scimRequest } from '../scim/env';
import { createSsoEnv, rows, ssoOrganization, verifiedOrganization } from './env';

describe('an organization that goes with its last member', () => {
  it('takes its connection, domains and SCIM set-up with it: the domain is free to prove again, its token is refused', async () => {
    await using env = await createSsoEnv();
    const org = await ssoOrganization(env);
    const scimStepUp = await stepUpByMail(env.t, org.owner, 'org_sso');
    const { token } = await org.owner.api.sso.scim.createToken.mutate({ organizationId: org.organizationId, stepUpToken: scimStepUp });
    expect((await scimRequest(env.t, 'GET', '/Users', { token })).status).toBe(200);

    // The owner, its only member, deletes their account: the organization goes with it.
    const stepUpToken = await stepUpByMail(env.t, org.owner, 'account_delete');
    expect(await org.owner.api.auth.deleteAccount.mutate({ stepUpToken })).toEqual({ status: 'deleted' });
    for (const table of ['organizations', 'sso_connections', 'organization_domains', 'scim_tokens']) {
      expect(await rows(env.t, `SELECT COUNT(*) AS n FROM ${table}`), table).toEqual([{ n: 0 }]);
    }
    expect((await scimRequest(env.t, 'GET', '/Users', { token })).status).toBe(401);
    // Nothing routes the domain's addresses anywhere any more.
    const anon = env.t.client().api;
    expect(await anon.sso.discover.mutate({ email: `someone@${org.domain}` })).toEqual({ sso: null });
    expect(await anon.sso.authorize.mutate({ email: `someone@${org.domain}` }).catch(iamCodeOf)).toBe('SSO_NO_CONNECTION');
    // Another organization can prove the same domain.
    const next = await verifiedOrganization(env.t, org.domain);
    expect(await rows(env.t, 'SELECT organization_id FROM organization_domains WHERE verified_domain = ?', [org.domain])).toEqual([
      { organization_id: next.organization.id },
    ]);
  });
});
