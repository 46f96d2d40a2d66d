import { consumeLimits } from '../modules/rateLimit/guards';
import type { LimitName } from '../modules/rateLimit/limits';
import type { Context } from './context';

/**
 * The rate-limit step of a procedure: the call counts against each named limit (blocked
 * IPs were refused before the input was even read). Limits count procedure calls, so a
 * batch cannot multiply attempts.
 */
export function enforceLimits(ctx: Context, hits: Array<[LimitName, string | null | undefined]>): Promise<void> {
  return consumeLimits(ctx.services.limits, hits);
}
