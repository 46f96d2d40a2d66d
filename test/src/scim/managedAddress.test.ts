import { iamCodeOf, isIamError } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { createTestServer, linkTokenFrom, uniqueEmail } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { oktaUser, rows, scimOrganization } from './env';

describe('an address the organization manages', () => {
  it('a provisioned member cannot move it off the domain, and a change asked for before provisioning is void', async () => {
    await using t = await createTestServer();
    const org = await scimOrganization(t);
    const person = await t.signUp({ email: `carol.jones@${org.domain}` });

    // Asked for while the account was still its own: the link is mailed.
    const early = await stepUpByMail(t, person, 'email_change');
    const personal = uniqueEmail('carol');
    expect(await person.api.auth.requestEmailChange.mutate({ newEmail: personal, stepUpToken: early })).toEqual({ status: 'sent' });
    const link = await t.mail.waitFor((message) => message.to.includes(personal) && message.tags.template === 'email_change_new');

    // The directory provisions the account.
    expect((await org.scim('POST', '/Users', oktaUser(person.email))).status).toBe(201);

    // The export shows the membership and what the directory holds about the account.
    const exported = await person.api.auth.exportData.query();
    expect(exported.organizations).toEqual([
      expect.objectContaining({ organizationId: org.organizationId, name: 'Initech', role: 'member' }),
    ]);
    expect(exported.provisioning).toEqual([
      expect.objectContaining({ organizationId: org.organizationId, userName: person.email, active: true, groups: [] }),
    ]);

    // Now the address is the organization's: a new change is refused, naming it.
    const token = await stepUpByMail(t, person, 'email_change');
    const refused = await person.api.auth.requestEmailChange
      .mutate({ newEmail: uniqueEmail('carol.again'), stepUpToken: token })
      .catch((error: unknown) => error);
    expect(isIamError(refused) && refused.data?.iamCode).toBe('EMAIL_MANAGED_BY_ORGANIZATION');
    expect(isIamError(refused) && (refused.data as { organizationId?: string } | undefined)?.organizationId).toBe(org.organizationId);
    // And the earlier link no longer moves it.
    expect(await person.api.auth.confirmEmailChange.mutate({ token: linkTokenFrom(link) }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect(await rows(t, 'SELECT email FROM users WHERE id = ?', [person.userId])).toEqual([{ email: person.email }]);

    // Someone the organization does not manage changes their address as before.
    const other = await t.signUp();
    const otherToken = await stepUpByMail(t, other, 'email_change');
    expect(await other.api.auth.requestEmailChange.mutate({ newEmail: uniqueEmail('free'), stepUpToken: otherToken })).toEqual({
      status: 'sent',
    });
  });
});
