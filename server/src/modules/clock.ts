/** Time is passed in, never read from a global, so tests can move it. */
export interface Clock {
  now(): Date;
}

/**
 * How far apart the clocks of the service's instances (and of HMAC-signing callers) may be.
 * Instances agree on signing keys through the database within it, and accept each other's
 * tokens issued up to this far in their future (docs/operations.md, clocks).
 */
export const maxClockSkewInSeconds = 300;

export const systemClock: Clock = { now: () => new Date() };

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
