import { iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';
import { rows, uniqueDomain } from './env';

describe('sso.domains: an organization proves a domain with a DNS TXT record', () => {
  it('add → no TXT → refused → TXT published → verified; a second organization cannot verify it', async () => {
    await using t = await createTestServer();
    const domain = uniqueDomain();
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Acme' });
    const added = await owner.api.sso.domains.add.mutate({ organizationId: organization.id, domain: ` ${domain.toUpperCase()}. ` });
    expect(added).toMatchObject({ domain, txtName: `_iam-challenge.${domain}`, verified: false });
    // 32 random bytes, base64url.
    expect(added.txtValue).toMatch(/^iam-domain-verification=[A-Za-z0-9_-]{43}$/);
    // Adding it again answers the same record (the value does not change under the admin's feet).
    expect((await owner.api.sso.domains.add.mutate({ organizationId: organization.id, domain })).txtValue).toBe(added.txtValue);

    expect(await owner.api.sso.domains.verify.mutate({ organizationId: organization.id, domain }).catch(iamCodeOf)).toBe(
      'SSO_DOMAIN_NOT_VERIFIED',
    );
    // Another value at the name proves nothing.
    t.dns.set(added.txtName, { txt: ['iam-domain-verification=someone-else', 'v=spf1 -all'] });
    expect(await owner.api.sso.domains.verify.mutate({ organizationId: organization.id, domain }).catch(iamCodeOf)).toBe(
      'SSO_DOMAIN_NOT_VERIFIED',
    );
    expect(await rows(t, 'SELECT verified_at, verified_domain FROM organization_domains')).toEqual([
      { verified_at: null, verified_domain: null },
    ]);

    t.dns.set(added.txtName, { txt: ['v=spf1 -all', added.txtValue] });
    const verified = await owner.api.sso.domains.verify.mutate({ organizationId: organization.id, domain });
    expect(verified).toMatchObject({ domain, verified: true, verifiedAt: expect.any(Date) });
    expect(t.dns.queries).toContainEqual(expect.objectContaining({ name: `_iam-challenge.${domain}`, type: 'TXT' }));
    expect(await rows(t, 'SELECT organization_id, verified_domain FROM organization_domains')).toEqual([
      { organization_id: organization.id, verified_domain: domain },
    ]);

    // Another organization may claim it, publish its own record, and is still refused: one holder per verified domain.
    const rival = await t.signUp();
    const { organization: other } = await rival.api.org.create.mutate({ name: 'Rival' });
    const claim = await rival.api.sso.domains.add.mutate({ organizationId: other.id, domain });
    t.dns.set(claim.txtName, { txt: [added.txtValue, claim.txtValue] });
    expect(await rival.api.sso.domains.verify.mutate({ organizationId: other.id, domain }).catch(iamCodeOf)).toBe('SSO_DOMAIN_TAKEN');
    expect(await rows(t, 'SELECT organization_id FROM organization_domains WHERE verified_domain IS NOT NULL')).toEqual([
      { organization_id: organization.id },
    ]);
    expect((await owner.api.sso.domains.list.query({ organizationId: organization.id })).domains).toEqual([
      expect.objectContaining({ domain, verified: true }),
    ]);

    // Removed, the domain is free for the other organization.
    expect(await owner.api.sso.domains.remove.mutate({ organizationId: organization.id, domain })).toEqual({ status: 'removed' });
    expect(await rival.api.sso.domains.verify.mutate({ organizationId: other.id, domain })).toMatchObject({ verified: true });
  });

  it('refuses free-mail, disposable and public-suffix domains, and malformed ones, changing nothing', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Acme' });
    for (const domain of [
      'gmail.com',
      'outlook.com',
      'yahoo.com',
      'icloud.com',
      'hotmail.com',
      'mailinator.com',
      'co.uk',
      'github.io',
      'mail.gmail.com',
    ]) {
      expect(await owner.api.sso.domains.add.mutate({ organizationId: organization.id, domain }).catch(iamCodeOf)).toBe(
        'SSO_DOMAIN_REFUSED',
      );
    }
    for (const domain of ['com', 'localhost', 'a..b.com', '-a.com', '127.0.0.1', 'exa mple.com', `${'a'.repeat(64)}.com`]) {
      expect(await owner.api.sso.domains.add.mutate({ organizationId: organization.id, domain }).catch(iamCodeOf)).toBe('INVALID_INPUT');
    }
    expect(await rows(t, 'SELECT * FROM organization_domains')).toEqual([]);
  });

  it('members and strangers cannot manage the domains', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const stranger = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Acme' });
    const domain = uniqueDomain();
    expect(await stranger.api.sso.domains.add.mutate({ organizationId: organization.id, domain }).catch(iamCodeOf)).toBe('NOT_FOUND');
    expect(await stranger.api.sso.domains.list.query({ organizationId: organization.id }).catch(iamCodeOf)).toBe('NOT_FOUND');
    expect(await rows(t, 'SELECT * FROM organization_domains')).toEqual([]);
  });
});
