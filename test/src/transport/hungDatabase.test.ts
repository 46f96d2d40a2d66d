import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { bearer, errorOf, expectNoInternals, type RawResponse, send } from '../harness/http';
import { createTestServer } from '../harness/server';
import { startTcpProxy } from '../peers/tcpProxy';

/** A request, and how long its answer took; a request still unanswered after `giveUpAfterMs` fails the test. */
async function timed(url: string, init: RequestInit, giveUpAfterMs = 10_000): Promise<RawResponse & { seconds: number }> {
  const started = performance.now();
  const response = await send(url, { ...init, signal: AbortSignal.timeout(giveUpAfterMs) });
  return { ...response, seconds: (performance.now() - started) / 1000 };
}

describe('a database that accepts connections but never answers', () => {
  it('fails calls with 503 SERVICE_UNAVAILABLE and /readyz with 503 in bounded time, stays up, and recovers by itself', async () => {
    const admin = new URL(inject('iamDatabaseAdminUrl'));
    await using proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port) });
    await using t = await createTestServer({
      databaseUrlFor: (url) => {
        const viaProxy = new URL(url);
        viaProxy.host = proxy.host;
        return viaProxy.href;
      },
      timeouts: { databaseQueryInMs: 1_000, requestDeadlineInMs: 3_000, readinessInMs: 500 },
    });
    const user = await t.signUp();
    const cookie = `iam_rt=${user.jar.get('iam_rt')}; iam_cid=${user.jar.get('iam_cid')}`;
    // The device's canary without the refresh cookie: a sign-in presenting it would replace the
    // session the other calls use (one session per browser).
    const login = () =>
      timed(`${t.trpcUrl}/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `iam_cid=${user.jar.get('iam_cid')}` },
        body: JSON.stringify({ json: { email: user.email, password: user.password } }),
      });
    const listSessions = () => timed(`${t.trpcUrl}/session.list`, { headers: bearer(user.accessToken) });
    // A rotation runs in a transaction: its queries run on a connection taken from the pool.
    const refresh = () =>
      timed(`${t.trpcUrl}/session.refresh`, { method: 'POST', headers: { 'content-type': 'application/json', cookie } });

    proxy.hang();
    try {
      for (const response of [await login(), await listSessions(), await refresh()]) {
        expect(response.status, response.text.slice(0, 300)).toBe(503);
        expect(errorOf(response).iamCode).toBe('SERVICE_UNAVAILABLE');
        expectNoInternals(response);
        // The deadline is 3 s: an upper bound with room for a loaded machine, far below a hang.
        expect(response.seconds).toBeLessThan(6);
      }

      const readyz = await timed(`${t.url}/readyz`, {});
      expect(readyz.status).toBe(503);
      expect(readyz.body).toEqual({ status: 'unavailable' });
      expect(readyz.seconds).toBeLessThan(3);

      // The process is still up and serving.
      expect((await timed(`${t.url}/healthz`, {})).status).toBe(200);
    } finally {
      proxy.resume();
    }

    // Connections that hung were dropped; new ones are made without a restart.
    let recovered: RawResponse | undefined;
    for (let attempt = 0; attempt < 40 && recovered?.status !== 200; attempt++) {
      if (attempt > 0) await sleep(250);
      recovered = await login();
    }
    expect(recovered?.status, recovered?.text.slice(0, 300)).toBe(200);
    expect((await listSessions()).status).toBe(200);
    expect((await refresh()).status).toBe(200);
    expect((await timed(`${t.url}/readyz`, {})).status).toBe(200);
  });
});
