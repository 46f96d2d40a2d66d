import { assertIpNotBlocked, consumeLimits } from '../modules/rateLimit/guards';
import type { LimitName } from '../modules/rateLimit/limits';
import type { Context } from './context';

/**
 * The rate-limit step of a public procedure: a blocked IP is refused first, then the call
 * counts against each named limit. Limits count procedure calls, so a batch cannot
 * multiply attempts.
 */
export async function enforceLimits(ctx: Context, hits: Array<[LimitName, string | null | undefined]>): Promise<void> {
  await assertIpNotBlocked(ctx.services.limits, ctx.client.ip);
  await consumeLimits(ctx.services.limits, hits);
}
