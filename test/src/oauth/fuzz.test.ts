import fc from 'fast-check';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { send } from '../harness/http';
import { corp, createOAuthEnv, type OAuthEnv } from './env';

/** The oauth procedures, as a client would reach them (the other procedures are fuzzed in fuzz/procedures.test.ts). */
const procedures: Array<{ path: string; type: 'query' | 'mutation'; shape: Record<string, fc.Arbitrary<unknown>> }> = [
  { path: 'oauth.providers', type: 'query', shape: {} },
  { path: 'oauth.authorize', type: 'mutation', shape: { provider: provider(), returnTo: text() } },
  { path: 'oauth.callback', type: 'mutation', shape: { provider: provider(), code: text(), state: text(), iss: text() } },
  { path: 'oauth.accounts', type: 'query', shape: {} },
  { path: 'oauth.link', type: 'mutation', shape: { linkToken: text() } },
  { path: 'oauth.unlink', type: 'mutation', shape: { provider: provider() } },
];

function provider(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constantFrom(corp, 'google', 'CORP', 'corp ', ''), text());
}

function text(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom(
      '',
      'https://app.example.com/app/',
      'https://evil.example/',
      'javascript:alert(1)',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      'A'.repeat(43),
    ),
    fc.string({ minLength: 300, maxLength: 3_000 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    fc.constant({ state_hash: 1 }),
  );
}

function inputFor(shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record(shape, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.anything() },
    { weight: Object.keys(shape).length === 0 ? 1 : 0, arbitrary: fc.constant(undefined) },
  );
}

async function stateOf(env: OAuthEnv): Promise<string> {
  const [rows] = await env.t.sql.query<RowDataPacket[]>(
    `SELECT (SELECT COUNT(*) FROM users) u, (SELECT COUNT(*) FROM sessions) s, (SELECT COUNT(*) FROM oauth_accounts) a,
            (SELECT COUNT(*) FROM oauth_states WHERE used_at IS NOT NULL) su, (SELECT COUNT(*) FROM oauth_link_tokens) lt`,
  );
  return JSON.stringify(rows[0]);
}

describe('the oauth procedures under generated input', () => {
  it('never answer 5xx, never leak a stack or SQL, and change nothing when they refuse', async () => {
    await using env = await createOAuthEnv({ server: { rateLimits: { oauthPerIp: { points: 100_000 } } } });
    const user = await env.t.signUp();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` };
    for (const procedure of procedures) {
      await fc.assert(
        fc.asyncProperty(inputFor(procedure.shape), async (input) => {
          const body = JSON.stringify({ json: input }) ?? 'null';
          const before = await stateOf(env);
          const response =
            procedure.type === 'query'
              ? await send(`${env.t.trpcUrl}/${procedure.path}?input=${encodeURIComponent(body)}`, { headers })
              : await send(`${env.t.trpcUrl}/${procedure.path}`, { method: 'POST', headers, body });
          expect(response.status, `${procedure.path} ${body.slice(0, 200)}`).toBeLessThan(500);
          expect(response.text).not.toMatch(/"stack"|\n\s+at |ER_[A-Z_]+|SELECT |INSERT |sqlMessage/);
          if (response.status !== 200) {
            const data = (response.body as { error?: { json?: { data?: { iamCode?: unknown } } } }).error?.json?.data;
            expect(typeof data?.iamCode).toBe('string');
            expect(await stateOf(env)).toBe(before);
          }
        }),
        { numRuns: 40, seed: 20261122 + procedure.path.length },
      );
    }
    // The generated inputs never took the user's only provider away, nor linked anything.
    expect(await user.api.oauth.accounts.query()).toEqual([]);
  }, 120_000);
});
