import type { Clock } from '@iam/server';

/** A clock that runs with real time but can be moved forward by a test. */
export interface TestClock extends Clock {
  advance(seconds: number): void;
}

export function createTestClock(): TestClock {
  let offsetInMs = 0;
  return {
    now: () => new Date(Date.now() + offsetInMs),
    advance(seconds) {
      offsetInMs += seconds * 1000;
    },
  };
}
