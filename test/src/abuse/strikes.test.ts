import { iamCodeOf, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { post } from '../harness/http';
import { createTestServer, uniqueEmail } from '../harness/server';

const probe = { email: 'probe@example.com', password: 'a long enough password', name: '<img src=x onerror=alert(1)>' };

describe('markup probes', () => {
  it('refuses markup in a free-text field with XSS_DETECTED and stores nothing', async () => {
    await using t = await createTestServer();
    const { api } = t.client();
    const error = await api.auth.signup.mutate({ ...probe, email: uniqueEmail('xss') }).catch((caught: unknown) => caught);
    expect(isIamError(error, 'XSS_DETECTED')).toBe(true);
    if (isIamError(error)) expect(error.data.httpStatus).toBe(400);
    const [users] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    expect(Number(users[0]?.n)).toBe(0);
    // Plain text with angle brackets is not markup.
    await expect(api.auth.signup.mutate({ ...probe, email: uniqueEmail('math'), name: 'a < b > c' })).resolves.toMatchObject({
      status: 'verification_required',
    });
  });

  it('blocks an IP after 3 probes, for longer each time, and never for ever', async () => {
    await using t = await createTestServer({ trustProxy: true, rateLimits: { ipBlockLadderInSeconds: [1, 2] } });
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    const signup = (headers: Record<string, string>) =>
      post(t.trpcUrl, 'auth.signup', JSON.stringify({ json: { ...probe, email: uniqueEmail('xss') } }), headers);
    const codeOf = (response: Awaited<ReturnType<typeof signup>>) =>
      (response.body as { error?: { json: { data: { iamCode: string } } } }).error?.json.data.iamCode;

    for (let i = 0; i < 3; i++) expect(codeOf(await signup(attacker))).toBe('XSS_DETECTED');
    const blocked = await signup(attacker);
    expect(blocked.status).toBe(429);
    expect(codeOf(blocked)).toBe('IP_BLOCKED');
    expect(Number(blocked.headers.get('retry-after'))).toBe(1);
    // Another client is not affected, and a clean request from the blocked IP is refused too.
    expect(codeOf(await signup({ 'x-forwarded-for': '198.51.100.1' }))).toBe('XSS_DETECTED');
    const clean = await post(
      t.trpcUrl,
      'auth.login',
      JSON.stringify({ json: { email: 'a@example.com', password: 'whatever it is' } }),
      attacker,
    );
    expect(codeOf(clean)).toBe('IP_BLOCKED');

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (let i = 0; i < 3; i++) expect(codeOf(await signup(attacker))).toBe('XSS_DETECTED');
    const again = await signup(attacker);
    expect(codeOf(again)).toBe('IP_BLOCKED');
    expect(Number(again.headers.get('retry-after'))).toBe(2);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(
      codeOf(
        await post(t.trpcUrl, 'auth.login', JSON.stringify({ json: { email: 'a@example.com', password: 'whatever it is' } }), attacker),
      ),
    ).toBe('INVALID_CREDENTIALS');
  });

  it('a forged X-Forwarded-For cannot get someone else blocked without TRUST_PROXY', async () => {
    await using t = await createTestServer({ rateLimits: { ipBlockLadderInSeconds: [60] } });
    const { api } = t.client({ headers: { 'x-forwarded-for': '192.0.2.10' } });
    for (let i = 0; i < 3; i++) await api.auth.signup.mutate({ ...probe, email: uniqueEmail('xss') }).catch(() => undefined);
    // The block landed on the socket's address (loopback), not on the forged one.
    const victim = t.client();
    const outcome = await victim.api.auth.login.mutate({ email: 'a@example.com', password: 'whatever it is' }).catch(iamCodeOf);
    expect(outcome).toBe('IP_BLOCKED');
  });
});
