import type { Pool as CallbackPool } from 'mysql2';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterMySQL, RateLimiterRes } from 'rate-limiter-flexible';
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
  block(key: string, seconds: number): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface RateLimits {
  get(name: LimitName): Limiter;
  /** The growing block durations for IPs (15 min → 1 h → 24 h by default). */
  blockLadderInSeconds: number[];
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
  overrides?: LimitOverrides;
  logger: Logger;
}): RateLimits {
  const limiters = new Map<LimitName, Limiter>();
  for (const name of Object.keys(defaultLimits) as LimitName[]) {
    const spec: LimitSpec = { ...defaultLimits[name], ...deps.overrides?.[name] };
    limiters.set(name, createLimiter(name, spec, deps));
  }
  return {
    get(name) {
      const limiter = limiters.get(name);
      if (!limiter) throw new Error(`unknown limit ${name}`);
      return limiter;
    },
    blockLadderInSeconds: deps.overrides?.ipBlockLadderInSeconds ?? defaultBlockLadderInSeconds,
    async sweep() {
      await deps.pool.promise().query('DELETE FROM rate_limits WHERE expire < ?', [Date.now() - 3_600_000]);
    },
  };
}

function createLimiter(name: string, spec: LimitSpec, deps: { pool: CallbackPool; databaseName: string; logger: Logger }): Limiter {
  const options = { points: spec.points, duration: spec.durationInSeconds, blockDuration: spec.blockInSeconds ?? 0 };
  const limiter = new RateLimiterMySQL({
    ...options,
    storeClient: deps.pool,
    storeType: 'pool',
    dbName: deps.databaseName,
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: name,
    insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: name }),
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
    async block(key, seconds) {
      await limiter.block(keyOf(key), seconds);
    },
    async reset(key) {
      await limiter.delete(keyOf(key));
    },
  };
}
