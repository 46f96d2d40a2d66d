import { describe, expect, it } from 'vitest';
import { bearer, type RawResponse, send } from '../harness/http';
import { createTestServer, type TestServer, uniqueEmail } from '../harness/server';

// Plain JSON calls are answered by the service's own resolver; a request that names an accept
// type (`trpc-accept`) goes through tRPC's resolver. The two must answer alike, byte for byte
// apart from the request id.

interface Call {
  what: string;
  path: string;
  method?: 'GET' | 'POST';
  /** The query string after `?` (GET inputs, `batch=1`). */
  query?: string;
  body?: string;
  headers?: Record<string, string>;
}

function sendCall(t: TestServer, call: Call, viaTrpc: boolean): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(call.method === 'POST' ? { 'content-type': 'application/json' } : {}), ...call.headers };
  if (viaTrpc) headers['trpc-accept'] = 'application/json';
  return send(`${t.trpcUrl}/${call.path}${call.query ? `?${call.query}` : ''}`, {
    method: call.method ?? 'GET',
    headers,
    ...(call.body === undefined ? {} : { body: call.body }),
  });
}

/** What must match: status, the tRPC headers and the body (request ids aside). */
function answerOf(response: RawResponse) {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    vary: response.headers.get('vary'),
    retryAfter: response.headers.get('retry-after') !== null,
    body: JSON.parse(response.text.replace(/"requestId":"[^"]*"/g, '"requestId":"…"')) as unknown,
  };
}

const input = (value: unknown) => `input=${encodeURIComponent(JSON.stringify(value))}`;

describe('plain JSON calls', () => {
  it('answer as tRPC answers them: results, refusals, input errors, batches and their statuses', async () => {
    await using t = await createTestServer({ rateLimits: { loginPerIpEmail: { points: 2 } } });
    const user = await t.signUp();
    const calls: Call[] = [
      { what: 'a query without input', path: 'system.ping' },
      { what: 'an authenticated query', path: 'auth.me', headers: bearer(user.accessToken) },
      { what: 'a query refused (no token)', path: 'auth.me' },
      { what: 'a query refused (a forged token)', path: 'auth.me', headers: bearer('not.a.token') },
      { what: 'a query with input', path: 'session.list', query: input({ json: {} }), headers: bearer(user.accessToken) },
      { what: 'a GET input that is not JSON', path: 'auth.me', query: 'input=%7Bnope', headers: bearer(user.accessToken) },
      {
        what: 'a mutation with invalid input',
        path: 'auth.login',
        method: 'POST',
        body: JSON.stringify({ json: { email: 'not an address', password: 'x' } }),
      },
      { what: 'a mutation with a body that is not JSON', path: 'auth.login', method: 'POST', body: '{"json":' },
      {
        what: 'a body after a byte-order mark',
        path: 'auth.login',
        method: 'POST',
        body: `\uFEFF${JSON.stringify({ json: { email: 'bad' } })}`,
      },
      { what: 'a mutation with an empty body', path: 'auth.login', method: 'POST', body: '' },
      { what: 'a mutation with the JSON null', path: 'auth.login', method: 'POST', body: 'null' },
      {
        what: 'a mutation refused (wrong password)',
        path: 'auth.login',
        method: 'POST',
        body: JSON.stringify({ json: { email: uniqueEmail('nobody'), password: 'a wrong passphrase' } }),
      },
      { what: 'a batch of one', path: 'auth.me', query: `batch=1&${input({ 0: { json: null } })}`, headers: bearer(user.accessToken) },
      { what: 'a mixed batch (207)', path: 'system.ping,auth.me', query: `batch=1&${input({})}` },
      { what: 'a batch whose input is not an object', path: 'system.ping,auth.me', query: `batch=1&${input([1, 2])}` },
      {
        what: 'a batch of mutations',
        path: 'auth.login,auth.login',
        method: 'POST',
        query: 'batch=1',
        body: JSON.stringify({ 0: { json: { email: 'bad' } }, 1: { json: { email: uniqueEmail('b'), password: 'another wrong one' } } }),
      },
    ];
    for (const call of calls) {
      const ours = answerOf(await sendCall(t, call, false));
      const trpcs = answerOf(await sendCall(t, call, true));
      expect({ what: call.what, ...ours }).toEqual({ what: call.what, ...trpcs });
    }

    // A limited call: both refuse it alike, with Retry-After (the limit is 2 per address and IP).
    const limited: Call = {
      what: 'a rate-limited mutation',
      path: 'auth.login',
      method: 'POST',
      body: JSON.stringify({ json: { email: user.email, password: 'a wrong passphrase' } }),
    };
    await sendCall(t, limited, false);
    await sendCall(t, limited, false);
    const ours = answerOf(await sendCall(t, limited, false));
    const trpcs = answerOf(await sendCall(t, limited, true));
    expect(ours.status).toBe(429);
    expect(ours.retryAfter).toBe(true);
    expect({ ...ours, body: undefined }).toEqual({ ...trpcs, body: undefined });
    const code = (answer: typeof ours) => (answer.body as { error: { json: { data: { iamCode: string } } } }).error.json.data.iamCode;
    expect(code(ours)).toBe(code(trpcs));
  });

  it('leave to tRPC what they do not cover: unknown procedures, wrong methods, other content types, streamed batches', async () => {
    await using t = await createTestServer();
    const cases: Array<[Call, number]> = [
      [{ what: 'an unknown procedure', path: 'auth.nothing' }, 404],
      [{ what: 'a query over POST', path: 'auth.me', method: 'POST', body: '{}' }, 405],
      [{ what: 'a mutation over GET', path: 'auth.login' }, 405],
      [{ what: 'a form body', path: 'auth.login', method: 'POST', body: 'a=b', headers: { 'content-type': 'text/plain' } }, 415],
      [{ what: 'an encoded path', path: 'auth%2Eme' }, 401],
    ];
    for (const [call, status] of cases) {
      const ours = answerOf(await sendCall(t, call, false));
      const trpcs = answerOf(await sendCall(t, call, true));
      expect({ what: call.what, status: ours.status }).toEqual({ what: call.what, status });
      expect({ what: call.what, ...ours }).toEqual({ what: call.what, ...trpcs });
    }
    const streamed = await send(`${t.trpcUrl}/system.ping?batch=1&input=%7B%7D`, { headers: { 'trpc-accept': 'application/jsonl' } });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('"data"');
  });
});
