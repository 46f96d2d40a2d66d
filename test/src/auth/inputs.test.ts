import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { bearer, errorOf, expectNoInternals, get, post, type RawResponse, send } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';

/**
 * Bodies no procedure accepts. Each carries an unknown key or a wrong type for every
 * procedure with an input, so a strict schema refuses it; what matters is how.
 */
const malformedBodies: Array<[string, string]> = [
  ['not JSON', '{"json": {"email": '],
  ['plain text', 'hello there'],
  ['null', 'null'],
  ['superjson null', '{"json":null}'],
  ['an array', '[1,2,3]'],
  ['a superjson array', '{"json":[{"email":"array@example.com","password":"a long enough passphrase"}]}'],
  ['a number', '42'],
  ['a superjson number', '{"json":42}'],
  ['a string', '"a string"'],
  ['operator objects', '{"json":{"email":{"$gt":""},"password":{"password":1}}}'],
  [
    'objects where ids belong',
    '{"json":{"challengeId":{"$ne":null},"code":{"$gt":""},"sessionId":{"id":"ses_x"},"token":["a"],"includeCurrent":{"$ne":false}}}',
  ],
  [
    'SQL in every field',
    JSON.stringify({
      json: { email: "x'OR'1'='1@example.com", password: "' OR '1'='1' -- ", sessionId: "ses_1' OR '1'='1", code: '1 OR 1=1', extra: 1 },
    }),
  ],
  [
    'huge strings',
    JSON.stringify({
      json: {
        email: `${'a'.repeat(60_000)}@example.com`,
        password: 'p'.repeat(30_000),
        sessionId: `ses_${'a'.repeat(1_000)}`,
        name: 'n'.repeat(5_000),
      },
    }),
  ],
  [
    'unknown keys',
    '{"json":{"email":"unknown.keys@example.com","password":"a long enough passphrase","roles":["admin"],"emailVerified":true,"sessionId":"ses_aaaaaaaaaaaaaaaa","includeCurrent":true,"isAdmin":true}}',
  ],
  [
    'wrong types',
    '{"json":{"email":12345,"password":true,"name":["x"],"code":123456,"challengeId":false,"sessionId":7,"token":{},"includeCurrent":"yes"}}',
  ],
  ['a deeply nested object', `{"json":{"email":${'{"a":'.repeat(3_000)}"x"${'}'.repeat(3_000)},"password":"a long enough passphrase"}}`],
  ['a deeply nested array', `{"json":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
  [
    'unicode garbage',
    JSON.stringify({
      json: {
        email: '\ud800\udfff\u0000\u202e@\ufeffexample.com',
        password: `${'\u0000'.repeat(10)}\ud83d`,
        name: '\u202e\u0000\u200b',
        code: '１２３４５６',
        challengeId: 'chl_ｘｘｘｘｘｘｘｘｘｘ',
        sessionId: 'ses_\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000',
        token: '\u0000'.repeat(20),
        includeCurrent: '\ud800',
      },
    }),
  ],
  [
    'prototype-pollution keys',
    '{"json":{"__proto__":{"isAdmin":true,"roles":["admin"]},"constructor":{"prototype":{"isAdmin":true}},"email":"proto@example.com","password":"a long enough passphrase","sessionId":{"__proto__":{"x":1}}}}',
  ],
  [
    'a superjson custom-type meta',
    '{"json":{"email":"meta@example.com","password":"a long enough passphrase","x":1},"meta":{"values":{"email":[["custom","Nope"]]}}}',
  ],
  [
    'a superjson meta aimed at the prototype',
    '{"json":{"email":"meta2@example.com","password":"a long enough passphrase","x":1},"meta":{"referentialEqualities":{"email":["__proto__.polluted"]},"values":{"__proto__.polluted":["Date"]}}}',
  ],
  [
    'a superjson bigint meta',
    JSON.stringify({
      json: { email: '1e99999', sessionId: '9'.repeat(5_000) },
      meta: { values: { email: ['bigint'], sessionId: ['bigint'] } },
    }),
  ],
  [
    'a superjson regexp meta',
    '{"json":{"email":"/(/","password":"/((a+)+)+$/"},"meta":{"values":{"email":["regexp"],"password":["regexp"]}}}',
  ],
];

interface Procedure {
  path: string;
  type: 'query' | 'mutation';
  /** A strict input schema: every malformed body must be refused as INVALID_INPUT. */
  strictInput: boolean;
  /** Which bearer token to send: the main session's, a throwaway one's (logout revokes it), or none. */
  auth: 'main' | 'throwaway' | 'none';
}

const procedures: Procedure[] = [
  { path: 'auth.signup', type: 'mutation', strictInput: true, auth: 'none' },
  { path: 'auth.verifyEmail', type: 'mutation', strictInput: true, auth: 'none' },
  { path: 'auth.login', type: 'mutation', strictInput: true, auth: 'none' },
  { path: 'auth.logout', type: 'mutation', strictInput: false, auth: 'throwaway' },
  { path: 'auth.me', type: 'query', strictInput: false, auth: 'main' },
  { path: 'session.refresh', type: 'mutation', strictInput: false, auth: 'none' },
  { path: 'session.list', type: 'query', strictInput: false, auth: 'main' },
  { path: 'session.revoke', type: 'mutation', strictInput: true, auth: 'main' },
  // Its input is optional: bodies that decode to no input at all are a valid call.
  { path: 'session.revokeAll', type: 'mutation', strictInput: false, auth: 'main' },
];

async function usersSnapshot(t: TestServer): Promise<RowDataPacket[]> {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    'SELECT id, email, email_normalized, email_verified_at, password_hash, name, roles FROM users ORDER BY id',
  );
  return rows;
}

function expectWellFormedRefusal(label: string, response: RawResponse): void {
  expect({ label, status: response.status, serverError: response.status >= 500 }).toMatchObject({ label, serverError: false });
  // Node's HTTP parser itself refuses a request line over its header limit, before the app sees it.
  if (response.status === 431) return;
  expect({ label, json: response.body !== undefined }).toEqual({ label, json: true });
  if (response.status >= 400) expect(errorOf(response).iamCode, label).toBeTruthy();
  expectNoInternals(response);
}

describe('malformed input never produces a 500', () => {
  it.each(procedures)('$path answers every malformed body without a 5xx or a stack, and changes no user', async (procedure) => {
    await using t = await createTestServer();
    const main = await t.signUp();
    const throwaway = await t.client({ deviceOf: main.jar }).api.auth.login.mutate({ email: main.email, password: main.password });
    if (throwaway.status !== 'authenticated') throw new Error('expected a sign-in');
    const headers =
      procedure.auth === 'main' ? bearer(main.accessToken) : procedure.auth === 'throwaway' ? bearer(throwaway.accessToken) : {};
    const before = await usersSnapshot(t);

    for (const [label, body] of malformedBodies) {
      const responses =
        procedure.type === 'mutation'
          ? [await post(t.trpcUrl, procedure.path, body, headers)]
          : [await get(t.trpcUrl, procedure.path, body, headers), await post(t.trpcUrl, procedure.path, body, headers)];
      for (const response of responses) {
        expectWellFormedRefusal(`${procedure.path} with ${label}`, response);
        if (procedure.strictInput) {
          expect({ label, status: response.status, iamCode: errorOf(response).iamCode }).toMatchObject({
            label,
            status: expect.toSatisfy((status: number) => status === 400 || status === 413),
            iamCode: expect.stringMatching(/^(INVALID_INPUT|XSS_DETECTED)$/),
          });
        }
      }
    }

    expect(await usersSnapshot(t)).toEqual(before);
    expect((Object.prototype as Record<string, unknown>).isAdmin).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    // Nothing destructive ran with the main session's token.
    if (procedure.auth === 'main') expect((await get(t.trpcUrl, 'auth.me', undefined, bearer(main.accessToken))).status).toBe(200);
  });

  it('garbage Authorization headers are refused as UNAUTHENTICATED, never a 500', async () => {
    await using t = await createTestServer();
    const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    const headers = [
      'Bearer',
      'Bearer ',
      'Bearer a.b',
      'Bearer a.b.c.d.e',
      'Bearer ...',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'a'.repeat(10_000)}`,
      `Bearer ${b64('"just a string"')}.${b64({})}.`,
      `Bearer ${b64('[]')}.${b64('[]')}.${b64('x')}`,
      `Bearer ${b64({ alg: 'EdDSA', kid: { $ne: null } })}.${b64({ sub: 1 })}.${b64('x')}`,
      `Bearer ${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: '__proto__' })}.${b64({ sub: 'usr_x' })}.${b64('x')}`,
      `Bearer ${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: 'constructor', crit: ['b64'], b64: false })}.${b64({})}.${b64('x')}`,
      `Bearer ${b64('\u0000\u0001')}.${b64('\uffff')}.${randomBytes(64).toString('base64url')}`,
    ];
    for (const authorization of headers) {
      for (const path of ['auth.me', 'session.list']) {
        const response = await get(t.trpcUrl, path, undefined, { authorization });
        expectWellFormedRefusal(`${path} with ${authorization.slice(0, 60)}`, response);
        expect({ authorization: authorization.slice(0, 60), status: response.status, iamCode: errorOf(response).iamCode }).toEqual({
          authorization: authorization.slice(0, 60),
          status: 401,
          iamCode: 'UNAUTHENTICATED',
        });
      }
    }
  });

  it('garbage cookies on session.refresh are refused as REFRESH_TOKEN_INVALID, never a 500', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const cookies = [
      'iam_rt=',
      'iam_rt=%E0%A4%A',
      'iam_rt="quoted"',
      `iam_rt=${'a'.repeat(4_000)}`,
      'iam_rt=%00%ED%A0%80%FF',
      'iam_rt=a; iam_rt=b; iam_rt=c',
      `iam_rt=${encodeURIComponent("x' OR '1'='1")}`,
      `iam_rt=${randomBytes(32).toString('base64url')}; iam_cid=%00%00`,
      'iam_cid=; iam_rt=__proto__',
      `__proto__=x; constructor=y; iam_rt=constructor; iam_cid=${'c'.repeat(43)}`,
      '=; ;; =iam_rt; iam_rt',
    ];
    for (const cookie of cookies) {
      const response = await post(t.trpcUrl, 'session.refresh', '{}', { cookie });
      expectWellFormedRefusal(`refresh with ${cookie.slice(0, 60)}`, response);
      expect({ cookie: cookie.slice(0, 60), status: response.status, iamCode: errorOf(response).iamCode }).toEqual({
        cookie: cookie.slice(0, 60),
        status: 401,
        iamCode: 'REFRESH_TOKEN_INVALID',
      });
    }
    // The user's real session is untouched by all of it.
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT revoked_at FROM sessions WHERE user_id = ?', [user.userId]);
    expect(rows.map((row) => row.revoked_at)).toEqual([null]);
    expect((await send(`${t.url}/readyz`)).status).toBe(200);
  });
});
