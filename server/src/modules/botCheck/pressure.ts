import type { LimitName } from '../rateLimit/limits';
import type { RateLimits } from '../rateLimit/rateLimiter';
import type { BotCheckedProcedure } from './botCheck';

/**
 * When a procedure counts as under attack (docs/security.md, bot check): the counters it
 * already keeps show failures or requests well past what a person makes, from the caller's IP
 * or at the address. Each entry: a limit, what it is keyed by, and the count from which the
 * caller must prove it is not a script (below the limit itself, which refuses).
 */
const pressure: Record<BotCheckedProcedure, Array<{ limit: LimitName; key: 'ip' | 'address' | 'ipAddress'; from: number }>> = {
  login: [
    { limit: 'loginFailuresPerIp', key: 'ip', from: 10 },
    { limit: 'loginFailuresPerEmail', key: 'address', from: 5 },
    { limit: 'loginFailuresPerIpEmail', key: 'ipAddress', from: 3 },
  ],
  signup: [
    { limit: 'signupPerIp', key: 'ip', from: 3 },
    { limit: 'signupPerEmail', key: 'address', from: 5 },
  ],
  requestPasswordReset: [
    { limit: 'passwordResetPerIp', key: 'ip', from: 5 },
    { limit: 'passwordResetPerEmail', key: 'address', from: 3 },
  ],
  requestSignIn: [
    { limit: 'signInRequestsPerIp', key: 'ip', from: 5 },
    { limit: 'signInMailsPerEmail', key: 'address', from: 5 },
  ],
};

export async function isUnderAttack(
  limits: RateLimits,
  procedure: BotCheckedProcedure,
  caller: { ip: string | null; address: string },
): Promise<boolean> {
  const reads: Array<readonly [LimitName, string]> = [];
  const thresholds: number[] = [];
  for (const { limit, key, from } of pressure[procedure]) {
    const value = key === 'ip' ? caller.ip : key === 'address' ? caller.address : `${caller.ip ?? 'unknown'}|${caller.address}`;
    if (!value) continue;
    reads.push([limit, value]);
    thresholds.push(from);
  }
  if (reads.length === 0) return false;
  // One read of every counter (one statement on MySQL).
  const states = (await limits.peekMany(reads)).map((state, i) => state.consumed >= (thresholds[i] ?? Number.POSITIVE_INFINITY));
  return states.some(Boolean);
}
