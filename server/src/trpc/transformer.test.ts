import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { serializeAnswer } from './transformer';

/** A small seeded generator (mulberry32), so a failure names a value that can be made again. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const keys = ['id', 'email', 'createdAt', 'a.b', '', 'back\\slash', 'constructor', '0', 'x', 'nested', 'roles'];
  const shared = { reused: true };
  const value = (depth: number): unknown => {
    const kind = pick(depth > 3 ? ['leaf'] : ['leaf', 'leaf', 'object', 'object', 'array', 'special']);
    if (kind === 'object') {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 5); i > 0; i--) out[pick(keys)] = value(depth + 1);
      return out;
    }
    if (kind === 'array') return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    if (kind === 'special')
      return pick<() => unknown>([() => new Map([[1, 2]]), () => 10n, () => shared, () => Object.create(null), () => sparse()])();
    return pick<() => unknown>([
      () => 'text',
      () => 'a.b',
      () => Math.floor(next() * 1000),
      () => next() * 10,
      () => -0,
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => true,
      () => null,
      () => undefined,
      () => new Date(Math.floor(next() * 2e12)),
      () => new Date(Number.NaN),
    ])();
  };
  return value;
}

/** The JSON written, or the refusal (superjson refuses keys such as `constructor`). */
function outcome(serialize: () => unknown): string {
  try {
    return JSON.stringify(serialize());
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

/** An array with a hole at 0. */
function sparse(): unknown[] {
  const out: unknown[] = [];
  out[1] = 1;
  return out;
}

describe('serializeAnswer', () => {
  it('writes what superjson writes, for every generated value', () => {
    const value = generator(20261203);
    for (let i = 0; i < 5000; i++) {
      const input = value(0);
      expect({ i, out: outcome(() => serializeAnswer(input)) }).toEqual({ i, out: outcome(() => superjson.serialize(input)) });
    }
  });

  it('writes an answer with dates in one pass, as superjson would', () => {
    const user = {
      id: 'usr_1',
      roles: ['admin'],
      createdAt: new Date('2026-12-03T10:00:00.000Z'),
      sessions: [{ id: 'ses_1', lastUsedAt: new Date('2026-12-03T11:00:00.000Z'), current: true }],
      name: null,
    };
    const out = serializeAnswer(user);
    expect(out).toEqual(superjson.serialize(user));
    expect(out.meta?.values).toEqual({ createdAt: ['Date'], 'sessions.0.lastUsedAt': ['Date'] });
    expect(superjson.deserialize(out)).toEqual(user);
    // Shared objects, a Date at the top and undefined go to superjson whole.
    const shared = {};
    for (const special of [{ a: shared, b: shared }, new Date(0), { a: undefined }, undefined, [undefined]]) {
      expect(serializeAnswer(special)).toEqual(superjson.serialize(special));
    }
  });
});
