import { consumeLimits } from '../modules/rateLimit/guards';
import type { LimitName } from '../modules/rateLimit/limits';
import type { Context } from './context';

export type LimitHits = Array<[LimitName, string | null | undefined]>;

/**
 * The rate-limit step of a procedure (`.use(withLimits((ctx, input) => [...]))`): the call
 * counts against each named limit, keyed as the rule says. Blocked IPs were refused before
 * the input was read. Limits count procedure calls, so a batch cannot multiply attempts.
 */
export function withLimits<TContext extends Context, TInput = unknown>(rule: (ctx: TContext, input: TInput) => LimitHits) {
  return async <TResult>({ ctx, input, next }: { ctx: TContext; input: TInput; next: () => Promise<TResult> }): Promise<TResult> => {
    await consumeLimits(ctx.services.limits, rule(ctx, input));
    return next();
  };
}

/** The same step where a procedure needs it in the middle of its own middleware. */
export function enforceLimits(ctx: Context, hits: LimitHits): Promise<void> {
  return consumeLimits(ctx.services.limits, hits);
}
