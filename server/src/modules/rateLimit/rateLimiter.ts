import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Pool as CallbackPool } from 'mysql2';
import type { Logger } from 'pino';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { isTransientConflictError } from '../../db/client';
import { sha256Hex } from '../crypto/hash';
import { defaultBlockLadderInSeconds, defaultLimits, type LimitName, type LimitOverrides, type LimitSpec } from './limits';
import { createMysqlLimiterStore, type MysqlLimiterStore, type StoredCounter } from './mysqlStore';

export interface LimitState {
  consumed: number;
  /** Over the limit (or explicitly blocked). */
  exceeded: boolean;
  /** How long the refusal lasts (≥ 1 when exceeded). Only meaningful when exceeded. */
  retryAfterSeconds: number;
}

export interface Limiter {
  readonly spec: LimitSpec;
  /** The state of a key without counting anything. */
  peek(key: string): Promise<LimitState>;
  /** Counts one (or `points`) against a key; never throws for going over, it reports it. */
  hit(key: string, points?: number): Promise<LimitState>;
  /** Gives back points counted in advance (a reserved failure that turned out a success). */
  reward(key: string, points?: number): Promise<void>;
  block(key: string, seconds: number): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface RateLimits {
  get(name: LimitName): Limiter;
  /**
   * The states of several counters at once, in the order asked (a path that judges a caller by
   * several counters, e.g. the bot check's pressure on login). With MySQL this is one SELECT
   * instead of one per counter; with Redis one read per counter, concurrently.
   */
  peekMany(reads: ReadonlyArray<readonly [LimitName, string]>): Promise<LimitState[]>;
  /**
   * `reset` of one counter and `reward` (one point) of another: with MySQL one statement, with
   * Redis (or when the store fails) each on its own limiter.
   */
  resetAndReward(reset: readonly [LimitName, string], reward: readonly [LimitName, string] | null): Promise<void>;
  /** The growing block durations for IPs (15 min → 1 h → 24 h by default). */
  blockLadderInSeconds: number[];
  /** Seconds left of an IP's block, 0 when it is free. */
  ipBlockedFor(ip: string): Promise<number>;
  blockIp(ip: string, seconds: number): Promise<void>;
  /** Deletes counters that expired over an hour ago. */
  sweep(): Promise<void>;
}

/**
 * The limits, shared by every instance: in MySQL (the `rate_limits` table on the small
 * auxiliary pool, one statement per operation: mysqlStore.ts), or in Redis with `REDIS_URL`
 * (rate-limiter-flexible's Redis limiter). When Redis is down (not connected, or a command
 * fails), a limiter counts in MySQL instead, which every instance shares, so a limit stays one
 * limit across instances while Redis is away; it goes back to Redis once connected (the counts
 * of each store stay where they were made). Only when MySQL fails too does a limiter count in
 * this instance's memory, so an outage weakens limits per instance instead of switching them
 * off (OWASP ASVS 4.0 V2.2.1: anti-automation controls must keep working; NIST SP 800-63B §5.2.2).
 */
export function createRateLimits(deps: {
  pool: CallbackPool;
  /** The service's database; the statements run on the pool's own database, which is this one. */
  databaseName: string;
  /** When set, counters live in Redis instead of MySQL (`REDIS_URL`). */
  redis?: Redis;
  overrides?: LimitOverrides;
  logger: Logger;
}): RateLimits {
  const store = createMysqlLimiterStore({ sql: deps.pool.promise() });
  const limiters = new Map<LimitName, InsuredLimiter>();
  for (const name of Object.keys(defaultLimits) as LimitName[]) {
    const spec: LimitSpec = { ...defaultLimits[name], ...deps.overrides?.[name] };
    limiters.set(name, createLimiter(name, spec, { store, redis: deps.redis, logger: deps.logger }));
  }
  const get = (name: LimitName): InsuredLimiter => {
    const limiter = limiters.get(name);
    if (!limiter) throw new Error(`unknown limit ${name}`);
    return limiter;
  };
  // Every public call asks whether its IP is blocked; the answer is kept for a second, so a
  // flood from one address costs the store one read a second, and a block made by another
  // instance takes effect here within that second.
  const blockCache = new LRUCache<string, { until: number }>({ max: 100_000, ttl: 1_000 });

  return {
    get,
    async peekMany(reads) {
      if (deps.redis) return Promise.all(reads.map(([name, key]) => get(name).peek(key)));
      const rowKeys = reads.map(([name, key]) => rowKeyOf(name, key));
      let counters: Map<string, StoredCounter>;
      try {
        counters = await store.read(rowKeys);
      } catch (error) {
        deps.logger.warn({ err: error, limiters: [...new Set(reads.map(([name]) => name))] }, storeFailedMessage);
        return Promise.all(reads.map(([name, key]) => get(name).memory.peek(key)));
      }
      return reads.map(([name], i) => stateOfCounter(counters.get(rowKeys[i] ?? ''), get(name).spec));
    },
    async resetAndReward([resetName, resetKey], reward) {
      const separately = () =>
        Promise.all([get(resetName).reset(resetKey), reward ? get(reward[0]).reward(reward[1]) : null]).then(() => {});
      if (deps.redis || !reward) return separately();
      try {
        await store.resetAndReward(rowKeyOf(resetName, resetKey), { rowKey: rowKeyOf(reward[0], reward[1]), points: 1 });
      } catch (error) {
        if (isTransientConflictError(error)) throw error;
        deps.logger.warn({ err: error, limiters: [resetName, reward[0]] }, storeFailedMessage);
        await Promise.all([get(resetName).memory.reset(resetKey), get(reward[0]).memory.reward(reward[1])]);
      }
    },
    async ipBlockedFor(ip) {
      let entry = blockCache.get(ip);
      if (!entry) {
        const state = await get('ipBlocks').peek(ip);
        entry = { until: state.exceeded ? Date.now() + state.retryAfterSeconds * 1000 : 0 };
        blockCache.set(ip, entry);
      }
      return entry.until > Date.now() ? Math.max(1, Math.ceil((entry.until - Date.now()) / 1000)) : 0;
    },
    async blockIp(ip, seconds) {
      await get('ipBlocks').block(ip, seconds);
      blockCache.set(ip, { until: Date.now() + seconds * 1000 }, { ttl: seconds * 1000 });
    },
    blockLadderInSeconds: deps.overrides?.ipBlockLadderInSeconds ?? defaultBlockLadderInSeconds,
    async sweep() {
      // Redis expires its keys by itself; the table holds what was counted while it was down.
      await store.sweep(Date.now() - 3_600_000);
    },
  };
}

const storeFailedMessage = 'rate-limit store failed; counting in memory on this instance';
const redisFailedMessage = 'rate-limit store (Redis) failed; counting in MySQL';

/**
 * Keys are hashed: the store never holds addresses or emails in clear. A row's key is
 * `<limit>:<hash>`, rate-limiter-flexible's `keyPrefix:key` form, so counters written before
 * the single-statement store stay valid across an upgrade.
 */
const hashedKey = (name: string, key: string) => sha256Hex(`${name}:${key}`).slice(0, 40);
const rowKeyOf = (name: string, key: string) => `${name}:${hashedKey(name, key)}`;

/** A limiter, and the in-memory one it falls back to (kept for `peekMany`'s fallback). */
interface InsuredLimiter extends Limiter {
  readonly memory: Limiter;
}

function createLimiter(name: string, spec: LimitSpec, deps: { store: MysqlLimiterStore; redis?: Redis; logger: Logger }): InsuredLimiter {
  const options = { points: spec.points, duration: spec.durationInSeconds, blockDuration: spec.blockInSeconds ?? 0 };
  const memory = flexibleLimiter(name, spec, new RateLimiterMemory({ ...options, keyPrefix: name }));
  const mysql = mysqlLimiter(name, spec, { store: deps.store, memory, logger: deps.logger });
  if (!deps.redis) return mysql;
  const client = deps.redis;
  const redis = flexibleLimiter(name, spec, new RateLimiterRedis({ ...options, storeClient: client, keyPrefix: `iam:rl:${name}` }));
  /** Redis's answer while it is connected; MySQL's when it is not, or when the command fails. */
  const viaRedis =
    <A extends unknown[], T>(operation: keyof Limiter, call: (limiter: Limiter) => (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      // A disconnected client would hold the command for its reconnection attempts: a call
      // waits on no outage, it goes to MySQL at once.
      if (client.status !== 'ready') return call(mysql)(...args);
      try {
        return await call(redis)(...args);
      } catch (error) {
        deps.logger.warn({ err: error, limiter: name, operation }, redisFailedMessage);
        return call(mysql)(...args);
      }
    };
  return {
    spec,
    memory,
    peek: viaRedis('peek', (limiter) => limiter.peek),
    hit: viaRedis('hit', (limiter) => limiter.hit),
    reward: viaRedis('reward', (limiter) => limiter.reward),
    block: viaRedis('block', (limiter) => limiter.block),
    reset: viaRedis('reset', (limiter) => limiter.reset),
  };
}

/** A limiter counting in the `rate_limits` table, and in this instance's memory when the table cannot be reached. */
function mysqlLimiter(name: string, spec: LimitSpec, deps: { store: MysqlLimiterStore; memory: Limiter; logger: Logger }): InsuredLimiter {
  const { store, memory } = deps;
  /**
   * The store's answer, or the in-memory limiter's when the store fails (one warning per failed
   * call). Not for a conflict that outlived the store's retries (a row fought over by writers on
   * several cluster nodes, a lock held too long): the store answers, just not now, and a hit
   * counted in this instance's memory would be missing from the shared count, so the caller
   * gets the conflict (a 503 to retry, OWASP ASVS 4.0 V2.2.1: the control must not be skipped).
   */
  const insured = async <T>(operation: keyof Limiter, viaStore: () => Promise<T>, viaMemory: () => Promise<T>): Promise<T> => {
    try {
      return await viaStore();
    } catch (error) {
      if (isTransientConflictError(error)) throw error;
      deps.logger.warn({ err: error, limiter: name, operation }, storeFailedMessage);
      return viaMemory();
    }
  };
  const rowKey = (key: string) => rowKeyOf(name, key);

  return {
    spec,
    memory,
    peek: (key) =>
      insured(
        'peek',
        async () => stateOfCounter((await store.read([rowKey(key)])).get(rowKey(key)), spec),
        () => memory.peek(key),
      ),
    hit: (key, points = 1) =>
      insured(
        'hit',
        async () => {
          const { total, retryAfterMs } = await store.hit(rowKey(key), points, spec);
          const exceeded = total > spec.points;
          return { consumed: total, exceeded, retryAfterSeconds: exceeded ? Math.max(1, Math.ceil(retryAfterMs / 1000)) : 0 };
        },
        () => memory.hit(key, points),
      ),
    reward: (key, points = 1) =>
      insured(
        'reward',
        () => store.reward(rowKey(key), points),
        () => memory.reward(key, points),
      ),
    block: (key, seconds) =>
      insured(
        'block',
        () => store.block(rowKey(key), seconds, spec),
        () => memory.block(key, seconds),
      ),
    reset: (key) =>
      insured(
        'reset',
        () => store.reset(rowKey(key)),
        () => memory.reset(key),
      ),
  };
}

/** A stored counter (or none) as a state: live counters only reach here. */
function stateOfCounter(counter: StoredCounter | undefined, spec: LimitSpec): LimitState {
  if (!counter) return { consumed: 0, exceeded: false, retryAfterSeconds: 0 };
  const exceeded = counter.points > spec.points;
  const msLeft = counter.expire === null ? 0 : counter.expire - Date.now();
  return { consumed: counter.points, exceeded, retryAfterSeconds: exceeded ? Math.max(1, Math.ceil(msLeft / 1000)) : 0 };
}

/** A rate-limiter-flexible limiter (Redis, or the in-memory one) behind `Limiter`. */
function flexibleLimiter(name: string, spec: LimitSpec, limiter: RateLimiterAbstract): Limiter {
  const hashed = (key: string) => hashedKey(name, key);
  const toState = (res: RateLimiterRes | null): LimitState => {
    if (!res) return { consumed: 0, exceeded: false, retryAfterSeconds: 0 };
    return {
      consumed: res.consumedPoints,
      exceeded: res.consumedPoints > spec.points,
      retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    };
  };
  return {
    spec,
    async peek(key) {
      return toState(await limiter.get(hashed(key)));
    },
    async hit(key, points = 1) {
      try {
        return toState(await limiter.consume(hashed(key), points));
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return toState(rejection);
        // The store failed: the caller logs it and counts elsewhere.
        throw rejection;
      }
    },
    async reward(key, points = 1) {
      await limiter.reward(hashed(key), points);
    },
    async block(key, seconds) {
      await limiter.block(hashed(key), seconds);
    },
    async reset(key) {
      await limiter.delete(hashed(key));
    },
  };
}
