import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { bearer, errorOf, expectNoInternals, type RawResponse, resultOf, send } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';
import { bodyOf, hmacKeys, introspectOnlyKey, mainKey, nonce, postRaw, postSigned, sign, startInstance } from './signed';

type Introspection = { active: boolean; reason?: string; sub?: string };

const introspectPath = '/trpc/bff.introspect';

function expectRefused(response: RawResponse, iamCode: string): void {
  expect(response.status, response.text.slice(0, 300)).toBe(401);
  expect(errorOf(response).iamCode).toBe(iamCode);
  expectNoInternals(response);
}

/** The catalog code of each call of a refused batch. */
function batchCodes(response: RawResponse): string[] {
  return (response.body as Array<{ error?: { json: { data: { iamCode: string } } } }>).map((item) => item.error?.json.data.iamCode ?? 'ok');
}

function introspection(response: RawResponse): Introspection {
  expect(response.status, response.text.slice(0, 300)).toBe(200);
  return resultOf<Introspection>(response);
}

async function storedNonces(t: TestServer): Promise<Array<{ key_id: string; nonce_hash: string }>> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT key_id, nonce_hash FROM hmac_nonces');
  return rows as Array<{ key_id: string; nonce_hash: string }>;
}

describe('HMAC-signed service requests', () => {
  it('a signed request is answered once; the same request again is a replay (HMAC_REPLAY), even after a restart', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const body = bodyOf({ accessToken: user.accessToken });
    const headers = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: t.clock.now().getTime() });

    expect(introspection(await postRaw(t.url, introspectPath, body, headers))).toMatchObject({ active: true, sub: user.userId });
    expectRefused(await postRaw(t.url, introspectPath, body, headers), 'HMAC_REPLAY');

    // Only a hash of the nonce is stored.
    const rows = await storedNonces(t);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.key_id).toBe(mainKey.id);
    expect(rows[0]?.nonce_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(headers['x-iam-nonce']);

    // A restart: an instance with nothing in memory, on the same database, answers a fresh
    // request, then closes; the next instance still refuses both nonces.
    const fresh = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: t.clock.now().getTime() });
    const before = await startInstance(t);
    try {
      expect(introspection(await postRaw(before.url, introspectPath, body, fresh)).active).toBe(true);
    } finally {
      await before.close();
    }
    const after = await startInstance(t);
    try {
      expectRefused(await postRaw(after.url, introspectPath, body, headers), 'HMAC_REPLAY');
      expectRefused(await postRaw(after.url, introspectPath, body, fresh), 'HMAC_REPLAY');
      expect(
        introspection(await postSigned({ url: after.url, clock: t.clock }, introspectPath, { accessToken: user.accessToken })).active,
      ).toBe(true);
    } finally {
      await after.close();
    }
  });

  it('two instances on one database: a nonce used on one is refused on the other, and of one request sent to both at once exactly one is answered', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const other = await startInstance(t);
    try {
      const body = bodyOf({ accessToken: user.accessToken });
      const headers = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: t.clock.now().getTime() });
      expect(introspection(await postRaw(t.url, introspectPath, body, headers)).active).toBe(true);
      expectRefused(await postRaw(other.url, introspectPath, body, headers), 'HMAC_REPLAY');

      for (let round = 0; round < 5; round++) {
        const raced = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: t.clock.now().getTime() });
        const responses = await Promise.all([t.url, other.url, t.url, other.url].map((base) => postRaw(base, introspectPath, body, raced)));
        expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
        for (const response of responses.filter((candidate) => candidate.status !== 200)) expectRefused(response, 'HMAC_REPLAY');
      }
    } finally {
      await other.close();
    }
  });

  it('a second service process (pnpm start, HMAC_KEYS from its environment) on the same database refuses a nonce used here', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-bff-process-'));
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/standalone/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        PUBLIC_URL: t.config.publicUrl,
        IAM_SECRET: t.config.secret,
        DATABASE_URL: t.config.databaseUrl,
        IAM_DATA_DIR: dataDir,
        HMAC_KEYS: `${mainKey.id}:${mainKey.secret}, ${introspectOnlyKey.id}:${introspectOnlyKey.secret}`,
        HIBP_API_URL: 'off',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the second process did not start: ${output}`)), 25_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the second process exited (${code}): ${output}`)));
      });

      const body = bodyOf({ accessToken: user.accessToken });
      const headers = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: Date.now() });
      expect(introspection(await postRaw(url, introspectPath, body, headers))).toMatchObject({ active: true, sub: user.userId });
      expectRefused(await postRaw(t.url, introspectPath, body, headers), 'HMAC_REPLAY');

      const fresh = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: Date.now() });
      expect(introspection(await postRaw(t.url, introspectPath, body, fresh)).active).toBe(true);
      expectRefused(await postRaw(url, introspectPath, body, fresh), 'HMAC_REPLAY');
      // Its allowlist-free keys came from HMAC_KEYS as written (a blank after the comma is ignored).
      const limited = sign({ method: 'POST', path: introspectPath, body, key: introspectOnlyKey, timestamp: Date.now() });
      expect(introspection(await postRaw(url, introspectPath, body, limited)).active).toBe(true);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('accepts a timestamp ±290 s from the service clock and refuses ±301 s (HMAC_CLOCK_SKEW)', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    t.clock.advance(-3600); // the service's clock, not the caller's, decides
    const input = { accessToken: 'not-a-token' };
    for (const offsetInSeconds of [290, -290]) {
      const response = await postSigned(t, introspectPath, input, { timestamp: t.clock.now().getTime() + offsetInSeconds * 1000 });
      expect(introspection(response)).toEqual({ active: false, reason: 'invalid' });
    }
    for (const offsetInSeconds of [301, -301]) {
      expectRefused(
        await postSigned(t, introspectPath, input, { timestamp: t.clock.now().getTime() + offsetInSeconds * 1000 }),
        'HMAC_CLOCK_SKEW',
      );
    }
    // The caller's real clock is an hour ahead of this service's: refused.
    expectRefused(await postSigned(t, introspectPath, { accessToken: user.accessToken }, { timestamp: Date.now() }), 'HMAC_CLOCK_SKEW');
  });

  it('refuses a tampered body, path or method, and a signature made with another key or for an unknown key (HMAC_INVALID)', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const now = () => t.clock.now().getTime();
    const body = bodyOf({ accessToken: user.accessToken });
    const signed = (overrides: { method?: string; path?: string; body?: string } = {}) =>
      sign({
        method: overrides.method ?? 'POST',
        path: overrides.path ?? introspectPath,
        body: overrides.body ?? body,
        key: mainKey,
        timestamp: now(),
      });

    // Body: one character changed, or a semantically equal re-serialisation.
    expectRefused(await postRaw(t.url, introspectPath, body.replace(/.$/, ' }'), signed()), 'HMAC_INVALID');
    expectRefused(await postRaw(t.url, introspectPath, JSON.stringify({ json: { accessToken: 'x' } }), signed()), 'HMAC_INVALID');
    // Path: another procedure, an added query string, another mount point.
    expectRefused(
      await postRaw(t.url, '/trpc/bff.authorize', bodyOf({ accessToken: user.accessToken, roles: ['user'] }), signed()),
      'HMAC_INVALID',
    );
    expectRefused(await postRaw(t.url, `${introspectPath}?x=1`, body, signed()), 'HMAC_INVALID');
    expectRefused(await postRaw(t.url, introspectPath, body, signed({ path: `/api${introspectPath}` })), 'HMAC_INVALID');
    // Method: signed for another one (the canonical method is upper case as sent).
    expectRefused(await postRaw(t.url, introspectPath, body, signed({ method: 'PUT' })), 'HMAC_INVALID');
    expectRefused(await postRaw(t.url, introspectPath, body, signed({ method: 'GET', body: '' })), 'HMAC_INVALID');
    // The key id of one key with the secret of another; a key the service does not know.
    const wrongSecret = sign({
      method: 'POST',
      path: introspectPath,
      body,
      key: { id: mainKey.id, secret: introspectOnlyKey.secret },
      timestamp: now(),
    });
    expectRefused(await postRaw(t.url, introspectPath, body, wrongSecret), 'HMAC_INVALID');
    const unknownKey = sign({
      method: 'POST',
      path: introspectPath,
      body,
      key: { id: 'nobody', secret: mainKey.secret },
      timestamp: now(),
    });
    expectRefused(await postRaw(t.url, introspectPath, body, unknownKey), 'HMAC_INVALID');
    // Uppercase hex is not the signature docs/api.md fixes.
    const upper = signed();
    expectRefused(
      await postRaw(t.url, introspectPath, body, { ...upper, 'x-iam-signature': (upper['x-iam-signature'] ?? '').toUpperCase() }),
      'HMAC_INVALID',
    );

    // Refusals claim no nonce: only authentic requests reach the store.
    expect(await storedNonces(t)).toHaveLength(0);
    expect(introspection(await postRaw(t.url, introspectPath, body, signed())).active).toBe(true);
  });

  it('refuses missing or malformed headers: nonce shorter than 16 or longer than 64 bytes, bad timestamp, absent signature', async () => {
    await using t = await createTestServer({ hmacKeys });
    const body = bodyOf({ accessToken: 'not-a-token' });
    const headers = (n: string, timestamp = t.clock.now().getTime()) =>
      sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp, nonce: n });
    expectRefused(await postRaw(t.url, introspectPath, body, headers(nonce(15))), 'HMAC_INVALID');
    expectRefused(await postRaw(t.url, introspectPath, body, headers(nonce(65))), 'HMAC_INVALID');
    expectRefused(await postRaw(t.url, introspectPath, body, headers('not base64url!!!!!!!!!!!!!!')), 'HMAC_INVALID');
    const { 'x-iam-signature': _signature, ...unsigned } = headers(nonce());
    expectRefused(await postRaw(t.url, introspectPath, body, unsigned), 'HMAC_INVALID');
    const stale = headers(nonce());
    expectRefused(
      await postRaw(t.url, introspectPath, body, { ...stale, 'x-iam-timestamp': `${stale['x-iam-timestamp']}.5` }),
      'HMAC_INVALID',
    );
    // The bounds themselves are fine.
    expect(introspection(await postRaw(t.url, introspectPath, body, headers(nonce(16)))).active).toBe(false);
    expect(introspection(await postRaw(t.url, introspectPath, body, headers(nonce(64)))).active).toBe(false);
  });

  it("a user's Bearer token without a signature is refused on every bff procedure; so is a service without keys", async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const calls: Array<[string, unknown]> = [
      ['bff.introspect', { accessToken: user.accessToken }],
      ['bff.authorize', { accessToken: user.accessToken, roles: ['user'] }],
      ['bff.refresh', { refreshToken: user.jar.get('iam_rt'), client: { ip: '203.0.113.7', userAgent: 'test' } }],
      ['bff.logout', { accessToken: user.accessToken }],
    ];
    for (const [procedure, input] of calls) {
      const response = await postRaw(t.url, `/trpc/${procedure}`, bodyOf(input), bearer(user.accessToken));
      expectRefused(response, 'HMAC_INVALID');
    }
    // Nothing happened: the session is alive.
    const me = await send(`${t.trpcUrl}/auth.me`, { headers: bearer(user.accessToken) });
    expect(me.status).toBe(200);

    await using bare = await createTestServer();
    expectRefused(await postSigned(bare, introspectPath, { accessToken: 'x' }), 'HMAC_INVALID');
  });

  it('a key limited to some procedures may call those and is refused the others, also inside a batch', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    expect(introspection(await postSigned(t, introspectPath, { accessToken: user.accessToken }, { key: introspectOnlyKey })).active).toBe(
      true,
    );
    expectRefused(
      await postSigned(t, '/trpc/bff.authorize', { accessToken: user.accessToken, roles: ['user'] }, { key: introspectOnlyKey }),
      'HMAC_INVALID',
    );
    expectRefused(await postSigned(t, '/trpc/bff.logout', { accessToken: user.accessToken }, { key: introspectOnlyKey }), 'HMAC_INVALID');

    const batchPath = '/trpc/bff.introspect,bff.authorize?batch=1';
    const batchBody = JSON.stringify({
      0: { json: { accessToken: user.accessToken } },
      1: { json: { accessToken: user.accessToken, roles: ['user'] } },
    });
    const refused = await postRaw(
      t.url,
      batchPath,
      batchBody,
      sign({ method: 'POST', path: batchPath, body: batchBody, key: introspectOnlyKey, timestamp: t.clock.now().getTime() }),
    );
    expect(refused.status).toBe(401);
    expect(batchCodes(refused)).toEqual(['HMAC_INVALID', 'HMAC_INVALID']);
    // The session was not touched.
    expect(introspection(await postSigned(t, introspectPath, { accessToken: user.accessToken })).active).toBe(true);
  });

  it('a signed batch (`bff.introspect,bff.authorize?batch=1`) is verified once and answers every call; a batch mixing in other procedures gets no service rights', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const batchPath = '/trpc/bff.introspect,bff.authorize?batch=1';
    const batchBody = JSON.stringify({
      0: { json: { accessToken: user.accessToken } },
      1: { json: { accessToken: user.accessToken, roles: ['user'] } },
    });
    const headers = sign({ method: 'POST', path: batchPath, body: batchBody, key: mainKey, timestamp: t.clock.now().getTime() });
    const response = await postRaw(t.url, batchPath, batchBody, headers);
    expect(response.status, response.text.slice(0, 300)).toBe(200);
    const items = response.body as Array<{ result: { data: { json: Record<string, unknown> } } }>;
    expect(items.map((item) => item.result.data.json)).toMatchObject([{ active: true, sub: user.userId }, { allowed: true }]);
    expect(await storedNonces(t)).toHaveLength(1);
    const replayed = await postRaw(t.url, batchPath, batchBody, headers);
    expect(replayed.status).toBe(401);
    expect(batchCodes(replayed)).toEqual(['HMAC_REPLAY', 'HMAC_REPLAY']);

    const mixedPath = '/trpc/bff.introspect,auth.logout?batch=1';
    const mixedBody = JSON.stringify({ 0: { json: { accessToken: user.accessToken } } });
    const mixed = await postRaw(
      t.url,
      mixedPath,
      mixedBody,
      sign({ method: 'POST', path: mixedPath, body: mixedBody, key: mainKey, timestamp: t.clock.now().getTime() }),
    );
    expect(batchCodes(mixed)[0]).toBe('HMAC_INVALID');

    // A percent-encoded procedure name is the procedure tRPC runs, and the signature covers the path as sent.
    const encodedPath = '/trpc/bff%2Eintrospect';
    const body = bodyOf({ accessToken: user.accessToken });
    const encoded = await postRaw(
      t.url,
      encodedPath,
      body,
      sign({ method: 'POST', path: encodedPath, body, key: introspectOnlyKey, timestamp: t.clock.now().getTime() }),
    );
    expect(introspection(encoded).active).toBe(true);
  });

  it('signs the exact bytes: non-ASCII text and a byte-order mark verify, a body that is not UTF-8 or over 100 kB is refused', async () => {
    await using t = await createTestServer({ hmacKeys });
    const now = () => t.clock.now().getTime();
    const unicode = bodyOf({ accessToken: 'jöse-😀-token' });
    expect(
      introspection(
        await postRaw(
          t.url,
          introspectPath,
          unicode,
          sign({ method: 'POST', path: introspectPath, body: unicode, key: mainKey, timestamp: now() }),
        ),
      ),
    ).toEqual({
      active: false,
      reason: 'invalid',
    });
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bodyOf({ accessToken: 'x' }))]);
    expect(
      introspection(
        await postRaw(
          t.url,
          introspectPath,
          withBom,
          sign({ method: 'POST', path: introspectPath, body: withBom, key: mainKey, timestamp: now() }),
        ),
      ).active,
    ).toBe(false);

    const notUtf8 = Buffer.from([...Buffer.from('{"json":{"accessToken":"'), 0xff, 0xfe, ...Buffer.from('"}}')]);
    const invalid = await postRaw(
      t.url,
      introspectPath,
      notUtf8,
      sign({ method: 'POST', path: introspectPath, body: notUtf8, key: mainKey, timestamp: now() }),
    );
    expect(invalid.status).toBe(400);
    expect(errorOf(invalid).iamCode).toBe('INVALID_INPUT');

    const huge = bodyOf({ accessToken: 'x'.repeat(110_000) });
    const tooLarge = await postRaw(
      t.url,
      introspectPath,
      huge,
      sign({ method: 'POST', path: introspectPath, body: huge, key: mainKey, timestamp: now() }),
    );
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('cache-control')).toBe('no-store');
    expectNoInternals(tooLarge);
  });

  it('counts refused signatures per IP: past hmacFailuresPerIp the answer is RATE_LIMITED with Retry-After; signed calls count per key', async () => {
    await using t = await createTestServer({
      hmacKeys,
      rateLimits: { hmacFailuresPerIp: { points: 3 }, hmacPerKey: { points: 4 } },
    });
    const bad = { key: { ...mainKey, secret: 'guessed secret 0123456789abcdefghijklmnop' } };
    for (let attempt = 0; attempt < 3; attempt++)
      expectRefused(await postSigned(t, introspectPath, { accessToken: 'x' }, bad), 'HMAC_INVALID');
    const limited = await postSigned(t, introspectPath, { accessToken: 'x' }, bad);
    expect(limited.status).toBe(429);
    expect(errorOf(limited).iamCode).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // A valid key from the same address is not locked out by a stranger's junk.
    for (let call = 0; call < 4; call++)
      expect(introspection(await postSigned(t, introspectPath, { accessToken: 'x' })).active).toBe(false);
    const overKey = await postSigned(t, introspectPath, { accessToken: 'x' });
    expect(overKey.status).toBe(429);
    expect(errorOf(overKey).iamCode).toBe('RATE_LIMITED');
    // Another key has a budget of its own.
    expect(introspection(await postSigned(t, introspectPath, { accessToken: 'x' }, { key: introspectOnlyKey })).active).toBe(false);
  });

  it('the sweep forgets a nonce only once its request can no longer be accepted', async () => {
    await using t = await createTestServer({ hmacKeys });
    const body = bodyOf({ accessToken: 'x' });
    const headers = sign({ method: 'POST', path: introspectPath, body, key: mainKey, timestamp: t.clock.now().getTime() });
    expect((await postRaw(t.url, introspectPath, body, headers)).status).toBe(200);

    t.clock.advance(299);
    expect(await t.iam.services.hmac.sweepNonces()).toBe(0);
    expectRefused(await postRaw(t.url, introspectPath, body, headers), 'HMAC_REPLAY');

    t.clock.advance(301 + 60); // past the window and its retention margin
    expect(await t.iam.services.hmac.sweepNonces()).toBe(1);
    expect(await storedNonces(t)).toHaveLength(0);
    // The window now refuses the old request on its own.
    expectRefused(await postRaw(t.url, introspectPath, body, headers), 'HMAC_CLOCK_SKEW');
  });

  it('signed responses set no device canary cookie', async () => {
    await using t = await createTestServer({ hmacKeys });
    const response = await postSigned(t, introspectPath, { accessToken: 'x' });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});
