import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { withSpan } from '../telemetry/tracing';

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's first configuration: m = 19 MiB,
 * t = 2, p = 1 (also NIST SP 800-63B §5.1.1.2: a memory-hard, salted key derivation).
 */
export const passwordHashOptions = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * At most one hash per core runs at once; the rest wait their turn in arrival order. More in
 * flight finish no sooner (each is CPU-bound), and each holds 19 MiB while it runs: with libuv's
 * four threads on a two-core machine that was 76 MiB at once instead of 38.
 */
const maxHashesAtOnce = Math.max(1, availableParallelism());
let hashesRunning = 0;
const waitingForHash: Array<() => void> = [];

async function oneAtATimePerCore<T>(work: () => Promise<T>): Promise<T> {
  if (hashesRunning >= maxHashesAtOnce) await new Promise<void>((resolve) => waitingForHash.push(resolve));
  else hashesRunning++;
  try {
    return await work();
  } finally {
    const next = waitingForHash.shift();
    // The slot passes straight to the next in line; only when nobody waits does it free up.
    if (next) next();
    else hashesRunning--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return withSpan('password.hash', () => oneAtATimePerCore(() => argon2.hash(password, passwordHashOptions)));
}

/**
 * false for a wrong password and for a malformed hash alike. Its span is the same for the dummy
 * verification of an unknown account, so a trace does not tell the two apart either.
 */
export function verifyPassword(hash: string, password: string): Promise<boolean> {
  return withSpan('password.verify', async () => {
    try {
      return await oneAtATimePerCore(() => argon2.verify(hash, password));
    } catch {
      return false;
    }
  });
}

export function passwordNeedsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, passwordHashOptions);
  } catch {
    return true;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Makes the dummy hash ahead of the first unknown-address login, so that login costs one
 * hash like every other (made lazily, the first one would cost two and stand out).
 */
export async function prepareDummyPassword(): Promise<void> {
  await dummyPasswordHash();
}

function dummyPasswordHash(): Promise<string> {
  dummyHash ??= oneAtATimePerCore(() => argon2.hash('not-a-real-password-only-spends-time', passwordHashOptions));
  return dummyHash;
}

/**
 * Spends the same work as a real verification when there is no account (or no password) to
 * check, so response time does not reveal whether an address is registered
 * (OWASP ASVS 4.0 V2.2.x, account enumeration).
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  await verifyPassword(await dummyPasswordHash(), password);
  return false;
}
