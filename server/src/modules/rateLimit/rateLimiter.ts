import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Pool as CallbackPool } from 'mysql2';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterMySQL, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { sha256Hex } from '../crypto/hash';
import { defaultBlockLadderInSeconds, defaultLimits, type LimitName, type LimitOverrides, type LimitSpec } from './limits';

export interface LimitState {
  consumed: number;
  /** Over the limit (or explicitly blocked). */
  exceeded: boolean;
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
  /** The growing block durations for IPs (15 min → 1 h → 24 h by default). */
  blockLadderInSeconds: number[];
  /** Seconds left of an IP's block, 0 when it is free. */
  ipBlockedFor(ip: string): Promise<number>;
  blockIp(ip: string, seconds: number): Promise<void>;
  /** Deletes counters that expired over an hour ago. */
  sweep(): Promise<void>;
}

/**
 * Limits backed by rate-limiter-flexible's MySQL store on the small auxiliary pool, shared
 * by every instance. If the store fails, each limiter falls back to an in-memory one
 * (rate-limiter-flexible's insurance limiter), so an outage weakens limits per instance
 * instead of switching them off.
 */
export function createRateLimits(deps: {
  pool: CallbackPool;
  databaseName: string;
  /** When set, counters live in Redis instead of MySQL (`REDIS_URL`). */
  redis?: Redis;
  overrides?: LimitOverrides;
  logger: Logger;
}): RateLimits {
  const limiters = new Map<LimitName, Limiter>();
  for (const name of Object.keys(defaultLimits) as LimitName[]) {
    const spec: LimitSpec = { ...defaultLimits[name], ...deps.overrides?.[name] };
    limiters.set(name, createLimiter(name, spec, deps));
  }
  const get = (name: LimitName): Limiter => {
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
      // Redis expires its keys by itself.
      if (deps.redis) return;
      await deps.pool.promise().query('DELETE FROM rate_limits WHERE expire < ?', [Date.now() - 3_600_000]);
    },
  };
}

function createLimiter(
  name: string,
  spec: LimitSpec,
  deps: { pool: CallbackPool; databaseName: string; redis?: Redis; logger: Logger },
): Limiter {
  const options = { points: spec.points, duration: spec.durationInSeconds, blockDuration: spec.blockInSeconds ?? 0 };
  const insuranceLimiter = new RateLimiterMemory({ ...options, keyPrefix: name });
  const limiter = deps.redis
    ? new RateLimiterRedis({ ...options, storeClient: deps.redis, keyPrefix: `iam:rl:${name}`, insuranceLimiter })
    : new RateLimiterMySQL({
        ...options,
        storeClient: deps.pool,
        storeType: 'pool',
        dbName: deps.databaseName,
        tableName: 'rate_limits',
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: name,
        insuranceLimiter,
      });
  // Keys are hashed: the store never holds addresses or emails in clear.
  const keyOf = (key: string) => sha256Hex(`${name}:${key}`).slice(0, 40);
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
      return toState(await limiter.get(keyOf(key)));
    },
    async hit(key, points = 1) {
      try {
        return toState(await limiter.consume(keyOf(key), points));
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return toState(rejection);
        deps.logger.error({ err: rejection, limiter: name }, 'rate limiter failed');
        throw rejection;
      }
    },
    async reward(key, points = 1) {
      await limiter.reward(keyOf(key), points);
    },
    async block(key, seconds) {
      await limiter.block(keyOf(key), seconds);
    },
    async reset(key) {
      await limiter.delete(keyOf(key));
    },
  };
}
