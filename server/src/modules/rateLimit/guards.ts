import { IamError } from '../errors/iamError';
import type { LimitName } from './limits';
import type { RateLimits } from './rateLimiter';

/** Refuses a client IP that is serving a temporary block. */
export async function assertIpNotBlocked(limits: RateLimits, ip: string | null): Promise<void> {
  if (!ip) return;
  const retryAfterSeconds = await limits.ipBlockedFor(ip);
  if (retryAfterSeconds > 0) throw new IamError('IP_BLOCKED', { retryAfterSeconds });
}

/**
 * Counts one call against each limit; refuses with `RATE_LIMITED` when any is over, with the
 * longest wait among them (OWASP ASVS 4.0 V2.2.1: anti-automation; NIST SP 800-63B §5.2.2).
 * The counters are independent, so they are hit concurrently: a call waits for one round trip,
 * not one per limit. Every limit counts the call, whether or not another refuses it.
 */
export async function consumeLimits(limits: RateLimits, hits: Array<[LimitName, string | null | undefined]>): Promise<void> {
  const states = await Promise.all(hits.map(([name, key]) => (key ? limits.get(name).hit(key) : null)));
  let retryAfterSeconds = 0;
  for (const state of states) {
    if (state?.exceeded) retryAfterSeconds = Math.max(retryAfterSeconds, state.retryAfterSeconds);
  }
  if (retryAfterSeconds > 0) throw new IamError('RATE_LIMITED', { retryAfterSeconds });
}

/**
 * A strike against an IP (markup in a free-text field). Enough strikes in the window block
 * the IP; each further block within a day lasts longer, up to the last step of the ladder,
 * never for ever. Returns the block in seconds, or 0.
 */
export async function recordStrike(limits: RateLimits, ip: string | null): Promise<number> {
  if (!ip) return 0;
  const strikes = await limits.get('markupStrikesPerIp').hit(ip);
  if (strikes.consumed < limits.get('markupStrikesPerIp').spec.points) return 0;
  const offences = await limits.get('ipBlocksPerDay').hit(ip);
  const ladder = limits.blockLadderInSeconds;
  const seconds = ladder[Math.min(offences.consumed, ladder.length) - 1] ?? ladder.at(-1) ?? 900;
  await limits.blockIp(ip, seconds);
  await limits.get('markupStrikesPerIp').reset(ip);
  return seconds;
}
