import { createIamServer, createLogger, type IamServer } from '@iam/server';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { hmacKeys, nonce, postSigned, startInstance } from '../bff/signed';
import { errorOf } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';
import { startRedisPeer } from '../peers/redis';

/** The catalog code of an in-process call's refusal. */
const codeOf = (error: unknown) => (error as { cause?: { code?: string } }).cause?.code;

/** A test server and a second instance on its database, both on `redisUrl`; the bot check is off for in-process sign-ins. */
async function twoInstances(redisUrl: string) {
  // In-process callers solve no proof of work: the bot check stays out of these counts.
  const botCheck = { modes: { login: 'off' as const } };
  const t = await createTestServer({ redisUrl, botCheck });
  const second = await createIamServer({
    ...t.config,
    redisUrl,
    clock: t.clock,
    logger: createLogger({ level: 'silent' }),
    hibpApiUrl: null,
    botCheck,
  });
  return {
    t,
    second,
    async [Symbol.asyncDispose]() {
      await second.close();
      await t.close();
    },
  };
}

/** Three wrong passwords through the first instance and two through the second, from one IP: the sixth attempt is refused on both, even with the right password. */
async function expectFailuresCountedTogether(
  instances: { t: TestServer; second: IamServer },
  user: { email: string; password: string },
  ip: string,
) {
  const client = { ip, userAgent: 'node', canary: null };
  const viaFirst = instances.t.iam.createCaller({ client });
  const viaSecond = instances.second.createCaller({ client });
  for (let i = 0; i < 3; i++)
    expect(await viaFirst.auth.login({ email: user.email, password: `wrong ${i}` }).catch(codeOf)).toBe('INVALID_CREDENTIALS');
  for (let i = 0; i < 2; i++)
    expect(await viaSecond.auth.login({ email: user.email, password: `wrong ${i}` }).catch(codeOf)).toBe('INVALID_CREDENTIALS');
  expect(await viaFirst.auth.login({ email: user.email, password: user.password }).catch(codeOf)).toBe('RATE_LIMITED');
  expect(await viaSecond.auth.login({ email: user.email, password: user.password }).catch(codeOf)).toBe('RATE_LIMITED');
}

describe('two instances sharing Redis (REDIS_URL)', () => {
  it('count login failures together in Redis, not in MySQL', async () => {
    await using redis = await startRedisPeer();
    await using instances = await twoInstances(redis.url);
    const user = await instances.t.signUp();
    await expectFailuresCountedTogether(instances, user, '198.51.100.20');
    expect((await redis.client.keys('iam:rl:loginFailuresPerIpEmail*')).length).toBeGreaterThan(0);
    const [rows] = await instances.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM rate_limits');
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('keep counting login failures together in MySQL when Redis goes down, never per instance', async () => {
    await using redis = await startRedisPeer();
    await using instances = await twoInstances(redis.url);
    const user = await instances.t.signUp();
    await redis.close();
    // Counting in each instance's memory would let each of them take five.
    await expectFailuresCountedTogether(instances, user, '198.51.100.21');
    const [rows] = await instances.t.sql.query<RowDataPacket[]>(
      "SELECT points FROM rate_limits WHERE `key` LIKE 'loginFailuresPerIpEmail:%'",
    );
    // One counter, in MySQL, past the limit of five.
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.points)).toBeGreaterThan(5);
  });

  it('refuse signed calls while Redis is down, and never accept a nonce twice', async () => {
    const redis = await startRedisPeer();
    await using t = await createTestServer({ redisUrl: redis.url, hmacKeys });
    const other = await startInstance(t, hmacKeys, { redisUrl: redis.url });
    try {
      const user = await t.signUp();
      const once = nonce();
      expect((await postSigned(t, '/trpc/bff.introspect', { accessToken: user.accessToken }, { nonce: once })).status).toBe(200);
      await redis.close();
      // The nonce Redis saw cannot be checked now: a replay is refused, and so is a fresh nonce.
      const replay = await postSigned(
        { url: other.url, clock: t.clock },
        '/trpc/bff.introspect',
        { accessToken: user.accessToken },
        { nonce: once },
      );
      expect(replay.status).toBe(503);
      const fresh = await postSigned({ url: other.url, clock: t.clock }, '/trpc/bff.introspect', { accessToken: user.accessToken });
      expect(fresh.status).toBe(503);
      const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM hmac_nonces');
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('fan out revocations at once: a logout on one instance is honoured by the other before any poll', async () => {
    await using redis = await startRedisPeer();
    const slowPoll = 60 * 60_000;
    await using t = await createTestServer({ redisUrl: redis.url, revocationPollIntervalInMs: slowPoll });
    const second = await createIamServer({
      ...t.config,
      redisUrl: redis.url,
      revocationPollIntervalInMs: slowPoll,
      clock: t.clock,
      logger: createLogger({ level: 'silent' }),
      hibpApiUrl: null,
    });
    try {
      const user = await t.signUp();
      await expect(second.verifyAccessToken(user.accessToken)).resolves.toMatchObject({ sub: user.userId });
      await user.api.auth.logout.mutate();
      let code: string | undefined;
      for (let i = 0; i < 50 && code !== 'SESSION_REVOKED'; i++) {
        code = await second.verifyAccessToken(user.accessToken).then(
          () => 'accepted',
          (error: { code?: string }) => error.code,
        );
        if (code !== 'SESSION_REVOKED') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(code).toBe('SESSION_REVOKED');
    } finally {
      await second.close();
    }
  });

  it('accept an HMAC nonce once across both instances, remembered in Redis', async () => {
    await using redis = await startRedisPeer();
    await using t = await createTestServer({ redisUrl: redis.url, hmacKeys });
    const other = await startInstance(t, hmacKeys, { redisUrl: redis.url });
    try {
      const user = await t.signUp();
      const once = nonce();
      const first = await postSigned(t, '/trpc/bff.introspect', { accessToken: user.accessToken }, { nonce: once });
      expect(first.status).toBe(200);
      const replay = await postSigned(
        { url: other.url, clock: t.clock },
        '/trpc/bff.introspect',
        { accessToken: user.accessToken },
        { nonce: once },
      );
      expect(replay.status).toBe(401);
      expect(errorOf(replay).iamCode).toBe('HMAC_REPLAY');
      expect(await redis.client.keys('iam:hmac-nonce:*')).toHaveLength(1);
      const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM hmac_nonces');
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await other.close();
    }
  });
});
