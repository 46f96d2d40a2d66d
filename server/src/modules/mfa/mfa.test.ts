import { describe, expect, it } from 'vitest';
import { throttleAfterFailures, throttleDelayInSeconds } from './mfa';

describe('throttleDelayInSeconds', () => {
  it('lets the first 10 wrong second factors through, then waits 30 s, doubling up to an hour', () => {
    expect(throttleAfterFailures).toBe(10);
    for (let failures = 0; failures < 10; failures++) expect(throttleDelayInSeconds(failures)).toBe(0);
    expect([10, 11, 12, 13, 14, 15, 16, 17].map(throttleDelayInSeconds)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600]);
    expect(throttleDelayInSeconds(30_000)).toBe(3600);
  });
});
