import { createHash } from 'node:crypto';
import { createIamServer, createLogger } from '@iam/server';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';

// The rate limits on MySQL (one statement per hit, server/src/modules/rateLimit/mysqlStore.ts,
// whose own tests sit beside it) shared by two service instances on one database: exact under
// concurrency across both, and the login block holds on either.

/** The row key of a limited key, as the service writes it (`<limit>:<hash>`, rate-limiter-flexible's `prefix:key` form). */
const rowKeyOf = (limit: string, key: string) => `${limit}:${createHash('sha256').update(`${limit}:${key}`).digest('hex').slice(0, 40)}`;
const minute = 60_000;

describe('the limits across two service instances on one database', () => {
  it('let exactly ten of forty concurrent calls through, and store forty', async () => {
    const rateLimits = { linksPerIp: { points: 10 } };
    await using t = await createTestServer({ rateLimits });
    const second = await createIamServer({
      ...t.config,
      rateLimits,
      clock: t.clock,
      logger: createLogger({ level: 'silent' }),
      hibpApiUrl: null,
    });
    try {
      const client = { ip: '198.51.100.30', userAgent: 'node', canary: null };
      const callers = [t.iam.createCaller({ client }), second.createCaller({ client })];
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          callers[i % 2]?.auth.resetPassword({ token: `no-such-link-token-${i}`, password: 'a new passphrase 123' }).then(
            () => 'ok',
            (error: { cause?: { code?: string } }) => error.cause?.code,
          ),
        ),
      );
      expect(outcomes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(30);
      expect(outcomes.filter((code) => code === 'LINK_INVALID')).toHaveLength(10);
      const [rows] = await t.sql.query<RowDataPacket[]>('SELECT points FROM rate_limits WHERE `key` = ?', [
        rowKeyOf('linksPerIp', client.ip),
      ]);
      expect(rows.map((found) => Number(found.points))).toEqual([40]);
    } finally {
      await second.close();
    }
  });

  it('refuse an account from one IP on both instances after five failures, for 15 minutes, even with the right password', async () => {
    const botCheck = { modes: { login: 'off' as const } };
    await using t = await createTestServer({ botCheck });
    const second = await createIamServer({
      ...t.config,
      clock: t.clock,
      logger: createLogger({ level: 'silent' }),
      hibpApiUrl: null,
      botCheck,
    });
    try {
      const user = await t.signUp();
      const client = { ip: '198.51.100.31', userAgent: 'node', canary: null };
      const callers = [t.iam.createCaller({ client }), second.createCaller({ client })];
      const codeOf = (error: { cause?: { code?: string } }) => error.cause?.code;
      for (let i = 0; i < 5; i++) {
        expect(await callers[i % 2]?.auth.login({ email: user.email, password: `wrong ${i}` }).catch(codeOf)).toBe('INVALID_CREDENTIALS');
      }
      for (const caller of callers) {
        const refused = await caller.auth.login({ email: user.email, password: user.password }).catch((error: unknown) => error);
        expect(codeOf(refused as { cause?: { code?: string } })).toBe('RATE_LIMITED');
      }
      const [rows] = await t.sql.query<RowDataPacket[]>('SELECT points, expire FROM rate_limits WHERE `key` = ?', [
        rowKeyOf('loginFailuresPerIpEmail', `${client.ip}|${user.email}`),
      ]);
      // Blocked at the fifth failure (one over the points), and each refusal counted on without extending the block.
      expect(Number(rows[0]?.points)).toBe(8);
      const left = Number(rows[0]?.expire) - Date.now();
      expect(left).toBeGreaterThan(14 * minute);
      expect(left).toBeLessThanOrEqual(15 * minute);
    } finally {
      await second.close();
    }
  });
});
