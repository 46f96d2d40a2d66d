import { describe, expect, it } from 'vitest';
import { randomToken, secureRandomBytes } from './random';

describe('secureRandomBytes', () => {
  it('hands out each drawn byte once: many small draws across pool refills never repeat', () => {
    const seen = new Set<string>();
    // 16-byte draws from a 4 KiB pool: about 40 refills.
    for (let i = 0; i < 10_000; i++) {
      const bytes = secureRandomBytes(16);
      expect(bytes.length).toBe(16);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(10_000);
  });

  it('gives each caller a buffer of its own, and draws large requests apart', () => {
    const a = secureRandomBytes(32);
    const copy = Buffer.from(a);
    a.fill(0);
    const b = secureRandomBytes(32);
    expect(b.equals(copy)).toBe(false);
    expect(b.equals(Buffer.alloc(32))).toBe(false);
    const large = secureRandomBytes(5000);
    expect(large.length).toBe(5000);
    // Uniform bytes: every value turns up in 5000 draws (a sum of zeros would not).
    expect(new Set(large).size).toBeGreaterThan(200);
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
