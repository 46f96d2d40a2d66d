import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations } from '../../db/migrate';
import { createLogger } from '../../logger';
import { sha256Hex } from '../crypto/hash';
import { createMysqlLimiterStore, type MysqlLimiterStore } from './mysqlStore';
import { createRateLimits } from './rateLimiter';

// The rate limits' MySQL store on the run's test database server (test/src/harness/globalSetup.ts
// provides it): every operation is one autocommit statement on the `rate_limits` table, exact
// under concurrency, and an outage of the store leaves the instance counting in memory. The
// service-level tests (two instances on one database) are in test/src/abuse/limiterStore.test.ts.

declare module 'vitest' {
  export interface ProvidedContext {
    iamDatabaseAdminUrl: string;
  }
}

/** The row key of a limited key, as the service writes it (rate-limiter-flexible's `prefix:key` form). */
const rowKeyOf = (limit: string, key: string) => `${limit}:${sha256Hex(`${limit}:${key}`).slice(0, 40)}`;

const minute = 60_000;
let database: { url: string; name: string };
let pool: mysql.Pool;
let now = Date.now();
let store: MysqlLimiterStore;
let keys = 0;
const freshKey = () => `key-${++keys}-${Math.random().toString(36).slice(2)}`;

async function row(key: string): Promise<{ points: number; expire: number } | undefined> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT points, expire FROM rate_limits WHERE `key` = ?', [key]);
  return rows[0] ? { points: Number(rows[0].points), expire: Number(rows[0].expire) } : undefined;
}

/** Runs one statement as the test server's admin. */
async function asAdmin(statement: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: inject('iamDatabaseAdminUrl') });
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}

beforeAll(async () => {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await asAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(inject('iamDatabaseAdminUrl'));
  url.pathname = `/${name}`;
  database = { url: url.href, name };
  await applyMigrations(database.url);
  pool = mysql.createPool({ uri: database.url, connectionLimit: 12 });
  store = createMysqlLimiterStore({ sql: pool, now: () => now });
});

afterAll(async () => {
  await pool.end();
  await asAdmin(`DROP DATABASE IF EXISTS \`${database.name}\``);
});

describe('the MySQL limiter store', () => {
  it('counts forty concurrent hits on a limit of ten exactly: ten allowed, every total once, forty stored', async () => {
    const key = freshKey();
    const spec = { points: 10, durationInSeconds: 60 };
    const results = await Promise.all(Array.from({ length: 40 }, () => store.hit(key, 1, spec)));
    expect(results.map((result) => result.total).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(results.filter((result) => result.total <= spec.points)).toHaveLength(10);
    // The refused ones are told how long: what is left of the window.
    for (const refused of results.filter((result) => result.total > spec.points)) {
      expect(refused.retryAfterMs).toBeGreaterThan(59_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(minute);
    }
    expect(await row(key)).toEqual({ points: 40, expire: now + minute });
  });

  it('sends one statement per hit, peek, reward, block and reset, and a second read only for a refusal without a block', async () => {
    await using connection = await mysql.createConnection({ uri: database.url });
    const onConnection = createMysqlLimiterStore({ sql: connection, now: () => now });
    const questions = async () => {
      const [rows] = await connection.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Questions'");
      return Number(rows[0]?.Value);
    };
    // What reading the counter costs by itself (the SHOW counts too).
    const first = await questions();
    const readingCost = (await questions()) - first;
    const statementsOf = async (operation: () => Promise<unknown>) => {
      const before = await questions();
      await operation();
      return (await questions()) - before - readingCost;
    };
    const key = freshKey();
    const spec = { points: 2, durationInSeconds: 60 };
    const blocking = { points: 2, durationInSeconds: 60, blockInSeconds: 900 };
    expect(await statementsOf(() => onConnection.hit(key, 1, spec))).toBe(1); // inserted
    expect(await statementsOf(() => onConnection.hit(key, 1, spec))).toBe(1); // updated
    expect(await statementsOf(() => onConnection.hit(key, 1, spec))).toBe(2); // over: how long, read
    expect(await statementsOf(() => onConnection.hit(key, 1, spec))).toBe(1); // over again: that read is kept a second
    const blocked = freshKey();
    await onConnection.hit(blocked, 2, blocking);
    expect(await statementsOf(() => onConnection.hit(blocked, 1, blocking))).toBe(1); // crossed: the block is the wait
    expect(await statementsOf(() => onConnection.read([key, blocked, freshKey()]))).toBe(1);
    expect(await statementsOf(() => onConnection.reward(key, 1))).toBe(1);
    expect(await statementsOf(() => onConnection.block(key, 60, spec))).toBe(1);
    expect(await statementsOf(() => onConnection.reset(key))).toBe(1);
    expect(await row(key)).toBeUndefined();
    const other = freshKey();
    await onConnection.hit(other, 3, spec);
    expect(await statementsOf(() => onConnection.resetAndReward(blocked, { rowKey: other, points: 1 }))).toBe(1);
  });

  it('resets one counter and rewards another in one statement: the reset one counts afresh, its block gone; only a live window is given back', async () => {
    const blocking = { points: 2, durationInSeconds: 60, blockInSeconds: 900 };
    const spec = { points: 10, durationInSeconds: 60 };
    const pair = freshKey();
    const ip = freshKey();
    for (let i = 0; i < 3; i++) await store.hit(pair, 1, blocking);
    expect((await store.read([pair])).get(pair)?.points).toBe(3);
    await store.hit(ip, 4, spec);
    await store.resetAndReward(pair, { rowKey: ip, points: 1 });
    // The pair reads as absent and its next failure is the first of a new window, unblocked.
    expect((await store.read([pair])).has(pair)).toBe(false);
    expect(await store.hit(pair, 1, blocking)).toEqual({ total: 1, retryAfterMs: 0 });
    expect(await row(pair)).toEqual({ points: 1, expire: now + minute });
    expect((await store.read([ip])).get(ip)?.points).toBe(3);
    // An expired IP window is not given back (no credit for later attempts), nor taken below zero.
    const expiredIp = freshKey();
    await store.hit(expiredIp, 2, spec);
    const started = now;
    try {
      now += minute;
      await store.resetAndReward(freshKey(), { rowKey: expiredIp, points: 1 });
      expect(await row(expiredIp)).toEqual({ points: 2, expire: started + minute });
    } finally {
      now = started;
    }
    const low = freshKey();
    await store.hit(low, 1, spec);
    await store.resetAndReward(freshKey(), { rowKey: low, points: 5 });
    expect((await store.read([low])).get(low)?.points).toBe(0);
  });

  it('starts a new window once the old one has expired', async () => {
    const key = freshKey();
    const spec = { points: 3, durationInSeconds: 60 };
    for (let i = 0; i < 5; i++) await store.hit(key, 1, spec);
    expect(await row(key)).toEqual({ points: 5, expire: now + minute });
    const started = now;
    try {
      now += minute - 1;
      expect((await store.hit(key, 1, spec)).total).toBe(6);
      now += 1;
      expect(await store.hit(key, 1, spec)).toEqual({ total: 1, retryAfterMs: 0 });
      expect(await row(key)).toEqual({ points: 1, expire: now + minute });
    } finally {
      now = started;
    }
  });

  it('blocks as loginFailuresPerIpEmail does: the sixth failure refuses 15 minutes, later ones do not extend it, then a fresh day', async () => {
    const key = freshKey();
    const spec = { points: 5, durationInSeconds: 24 * 3600, blockInSeconds: 15 * 60 };
    const started = now;
    try {
      // A failure a minute: the window is the first one's day until the limit is crossed.
      for (let i = 1; i <= 5; i++, now += minute) expect(await store.hit(key, 1, spec)).toEqual({ total: i, retryAfterMs: 0 });
      expect(await row(key)).toEqual({ points: 5, expire: started + 24 * 3600_000 });
      const crossedAt = now;
      expect(await store.hit(key, 1, spec)).toEqual({ total: 6, retryAfterMs: 15 * minute });
      expect(await row(key)).toEqual({ points: 6, expire: crossedAt + 15 * minute });
      now += minute;
      expect(await store.hit(key, 1, spec)).toEqual({ total: 7, retryAfterMs: 14 * minute });
      expect(await row(key)).toEqual({ points: 7, expire: crossedAt + 15 * minute });
      now = crossedAt + 15 * minute;
      expect(await store.hit(key, 1, spec)).toEqual({ total: 1, retryAfterMs: 0 });
      expect(await row(key)).toEqual({ points: 1, expire: now + 24 * 3600_000 });
    } finally {
      now = started;
    }
  });

  it('blocks concurrently crossing hits once, from the hit that crossed', async () => {
    const key = freshKey();
    const spec = { points: 5, durationInSeconds: 24 * 3600, blockInSeconds: 15 * 60 };
    const results = await Promise.all(Array.from({ length: 12 }, () => store.hit(key, 1, spec)));
    expect(results.filter((result) => result.total <= 5)).toHaveLength(5);
    expect(await row(key)).toEqual({ points: 12, expire: now + 15 * minute });
  });

  it('blocks a key on demand, one over the points until then', async () => {
    const key = freshKey();
    const spec = { points: 5, durationInSeconds: 24 * 3600 };
    await store.hit(key, 2, spec);
    await store.block(key, 900, spec);
    expect(await row(key)).toEqual({ points: 6, expire: now + 900_000 });
    const counters = await store.read([key]);
    expect(counters.get(key)).toEqual({ points: 6, expire: now + 900_000 });
  });

  it('gives points back within the live window only, never below zero', async () => {
    const key = freshKey();
    const spec = { points: 5, durationInSeconds: 60 };
    for (let i = 0; i < 3; i++) await store.hit(key, 1, spec);
    await store.reward(key, 1);
    expect((await row(key))?.points).toBe(2);
    await store.reward(key, 5);
    expect((await row(key))?.points).toBe(0);
    expect((await store.hit(key, 1, spec)).total).toBe(1);
    // Nothing to give back on an absent key: no row, no credit.
    const absent = freshKey();
    await store.reward(absent, 1);
    expect(await row(absent)).toBeUndefined();
  });

  it('reads absent and expired counters as nothing, several keys in one statement', async () => {
    const live = freshKey();
    const expired = freshKey();
    const spec = { points: 5, durationInSeconds: 60 };
    await store.hit(live, 3, spec);
    await pool.query('INSERT INTO rate_limits (`key`, points, expire) VALUES (?, 4, ?)', [expired, now - 1]);
    const counters = await store.read([live, expired, freshKey()]);
    expect([...counters.entries()]).toEqual([[live, { points: 3, expire: now + minute }]]);
  });
});

describe('the limits on the MySQL store', () => {
  const silent = createLogger({ level: 'silent' });

  it('keep the key format of rate-limiter-flexible: a counter it wrote is read and counted on', async () => {
    // A callback pool, as the service passes its auxiliary pool.
    const callbackPool = pool.pool;
    const limits = createRateLimits({ pool: callbackPool, databaseName: database.name, logger: silent });
    const ip = `203.0.113.${keys % 250}`;
    // rate-limiter-flexible stored `keyPrefix:key`, the prefix being the limit's name.
    await pool.query('INSERT INTO rate_limits (`key`, points, expire) VALUES (?, 7, ?)', [
      rowKeyOf('loginPerIpEmail', ip),
      Date.now() + minute,
    ]);
    expect(await limits.get('loginPerIpEmail').peek(ip)).toEqual({ consumed: 7, exceeded: false, retryAfterSeconds: 0 });
    expect((await limits.get('loginPerIpEmail').hit(ip)).consumed).toBe(8);
    const [first, second] = await limits.peekMany([
      ['loginPerIpEmail', ip],
      ['signupPerIp', ip],
    ]);
    expect(first).toEqual({ consumed: 8, exceeded: false, retryAfterSeconds: 0 });
    expect(second).toEqual({ consumed: 0, exceeded: false, retryAfterSeconds: 0 });
    await limits.get('loginPerIpEmail').reset(ip);
    expect(await row(rowKeyOf('loginPerIpEmail', ip))).toBeUndefined();
    expect(await limits.get('loginPerIpEmail').peek(ip)).toEqual({ consumed: 0, exceeded: false, retryAfterSeconds: 0 });
  });

  it('fall back to counting in memory when the store is down, logging each failed call', async () => {
    // A port nobody listens on: every statement fails at once with ECONNREFUSED.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = mysql.createPool({ host: '127.0.0.1', port, user: 'nobody', database: 'none', connectionLimit: 2 });
    const lines: Array<{ level: number; msg: string; limiter?: string; operation?: string }> = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    try {
      const limits = createRateLimits({ pool: dead.pool, databaseName: 'none', logger });
      const limiter = limits.get('loginPerIpEmail'); // 10 a minute
      const states = [];
      for (let i = 0; i < 12; i++) states.push(await limiter.hit('198.51.100.1'));
      expect(states.map((state) => state.exceeded)).toEqual([...Array(10).fill(false), true, true]);
      expect(states.map((state) => state.consumed)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(states[11]?.retryAfterSeconds).toBeGreaterThan(50);
      expect((await limiter.peek('198.51.100.1')).consumed).toBe(12);
      // A block and a reset still take effect on this instance.
      await limiter.block('198.51.100.2', 600);
      expect((await limiter.peek('198.51.100.2')).exceeded).toBe(true);
      await limiter.reset('198.51.100.1');
      expect((await limiter.peek('198.51.100.1')).consumed).toBe(0);
      expect(await limits.peekMany([['loginPerIpEmail', '198.51.100.2']]).then(([state]) => state?.exceeded)).toBe(true);
      const failures = lines.filter((line) => line.msg === 'rate-limit store failed; counting in memory on this instance');
      // One line per failed call: 12 hits, 3 peeks, a block, a reset, a multi-read.
      expect(failures).toHaveLength(18);
      expect(failures.every((line) => line.level === 40)).toBe(true);
      expect(failures[0]).toMatchObject({ limiter: 'loginPerIpEmail', operation: 'hit' });
      // Nothing escaped as an error the callers could not map.
      expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    } finally {
      await dead.end();
    }
  });

  it('refuse a hit whose statement keeps losing to other writers of its row, never counting it in memory instead', async () => {
    // A row held by another transaction past the lock wait (1 s here, five times), as a flood on one key
    // from several cluster nodes holds it: the conflict is the caller's (a 503 to retry), since
    // a hit counted in one instance's memory would be missing from the shared count.
    const ownPool = mysql.createPool({ uri: database.url, connectionLimit: 2 });
    ownPool.pool.on('connection', (connection) => connection.query('SET SESSION innodb_lock_wait_timeout = 1'));
    const lines: Array<{ msg: string }> = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    const limits = createRateLimits({ pool: ownPool.pool, databaseName: database.name, logger });
    const ip = `192.0.2.${(keys++ % 250) + 1}`;
    const limiter = limits.get('loginPerIpEmail');
    await limiter.hit(ip);
    const holder = await pool.getConnection();
    try {
      await holder.beginTransaction();
      await holder.query('SELECT points FROM rate_limits WHERE `key` = ? FOR UPDATE', [rowKeyOf('loginPerIpEmail', ip)]);
      const refused = await limiter.hit(ip).then(
        () => 'counted',
        (error: { errno?: number }) => error.errno,
      );
      expect(refused).toBe(1205);
      await holder.rollback();
    } finally {
      holder.release();
    }
    expect(lines.filter((line) => line.msg.includes('counting in memory'))).toEqual([]);
    // The next hit counts in the table, after the one before the conflict.
    expect((await limiter.hit(ip)).consumed).toBe(2);
    expect((await row(rowKeyOf('loginPerIpEmail', ip)))?.points).toBe(2);
    await ownPool.end();
  });

  it('keep counting in memory after the pool goes away mid-window', async () => {
    const ownPool = mysql.createPool({ uri: database.url, connectionLimit: 2 });
    const limits = createRateLimits({ pool: ownPool.pool, databaseName: database.name, logger: silent });
    const ip = `192.0.2.${(keys++ % 250) + 1}`;
    const limiter = limits.get('loginPerIpEmail');
    for (let i = 0; i < 4; i++) await limiter.hit(ip);
    expect((await row(rowKeyOf('loginPerIpEmail', ip)))?.points).toBe(4);
    await ownPool.end();
    // The instance no longer sees the shared count; it counts afresh in memory and still refuses past the limit.
    const states = [];
    for (let i = 0; i < 11; i++) states.push(await limiter.hit(ip));
    expect(states.map((state) => state.exceeded)).toEqual([...Array(10).fill(false), true]);
    expect((await row(rowKeyOf('loginPerIpEmail', ip)))?.points).toBe(4);
  });
});
