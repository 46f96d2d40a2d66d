import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';
import { errorSchema, groupSchema, oktaUser, patchOpSchema, rows, scimOrganization } from './env';

describe('SCIM under generated input', () => {
  it('never answers 500: every refusal is a SCIM error, and nothing outside the organization changes', async () => {
    await using t = await createTestServer({ rateLimits: { scimPerIp: { points: 100_000 }, scimPerToken: { points: 100_000 } } });
    const org = await scimOrganization(t);
    const user = await org.scim('POST', '/Users', oktaUser(`fuzz@${org.domain}`));
    const group = await org.scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'Fuzzers', members: [{ value: user.body.id }] });
    const usersBefore = await rows(t, 'SELECT id, email FROM users ORDER BY id');

    const value = fc.jsonValue({ maxDepth: 3 });
    const path = fc.oneof(
      fc.constantFrom(
        'active',
        'userName',
        'name.givenName',
        'emails[type eq "work"].value',
        'members',
        'members[value eq "x"]',
        'displayName',
        'a[b',
      ),
      fc.string({ maxLength: 40 }),
    );
    const operation = fc.record({
      op: fc.oneof(fc.constantFrom('add', 'Replace', 'remove', 'x'), fc.string()),
      path: fc.option(path),
      value,
    });
    const patch = fc.record({ schemas: fc.constant([patchOpSchema]), Operations: fc.array(operation, { maxLength: 4 }) });
    const target = fc.constantFrom(`/Users/${user.body.id}`, `/Groups/${group.body.id}`);
    const request = fc.oneof(
      fc.record({ method: fc.constant('PATCH'), path: target, body: fc.oneof(patch, value) }),
      fc.record({
        method: fc.constantFrom('POST', 'PUT'),
        path: fc.constantFrom('/Users', '/Groups', `/Users/${user.body.id}`, `/Groups/${group.body.id}`),
        body: value,
      }),
      fc.record({
        method: fc.constant('GET'),
        path: fc
          .tuple(fc.constantFrom('/Users', '/Groups'), fc.string({ maxLength: 60 }))
          .map(([base, filter]) => `${base}?filter=${encodeURIComponent(filter)}`),
        body: fc.constant(undefined),
      }),
    );
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path: where, body }) => {
        const answer = await org.scim(method, where, body);
        calls++;
        expect(answer.status, `${method} ${where} ${JSON.stringify(body)}`).toBeLessThan(500);
        if (answer.status >= 400) expect(answer.body).toMatchObject({ schemas: [errorSchema], status: String(answer.status) });
      }),
      { numRuns: 300 },
    );
    expect(calls).toBe(300);
    // Generated input names no address at the verified domain: no account appeared or changed its address.
    expect(await rows(t, 'SELECT id, email FROM users ORDER BY id')).toEqual(usersBefore);
  }, 120_000);

  it('limits requests per token and per IP: past them, 429 with Retry-After, as a SCIM error', async () => {
    await using t = await createTestServer({ rateLimits: { scimPerToken: { points: 3 }, scimPerIp: { points: 6 } } });
    const org = await scimOrganization(t);
    for (let i = 0; i < 3; i++) expect((await org.scim('GET', '/Users')).status).toBe(200);
    const limited = await org.scim('GET', '/Users');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ schemas: [errorSchema], status: '429' });
    // Guessing tokens from one IP runs into the IP's limit, before any token is looked up.
    for (let i = 0; i < 2; i++) expect((await org.scim('GET', '/Users', undefined, { token: `scim_${'B'.repeat(43)}` })).status).toBe(401);
    expect((await org.scim('GET', '/Users', undefined, { token: `scim_${'B'.repeat(43)}` })).status).toBe(429);
  }, 60_000);
});
