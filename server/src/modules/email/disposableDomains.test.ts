import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadDisposableDomains, SortedDomainList } from './disposableDomains';

describe('SortedDomainList', () => {
  it('has exactly the domains it was made from', () => {
    const list = SortedDomainList.from(['b.example', 'a.example', 'ab.example', 'b.example', '例え.jp', 'z']);
    expect(list.size).toBe(5);
    for (const domain of ['a.example', 'ab.example', 'b.example', '例え.jp', 'z']) expect(list.has(domain)).toBe(true);
    for (const domain of ['', 'a', 'a.exampl', 'a.example.', 'aa.example', 'c.example', 'zz', 'example'])
      expect(list.has(domain)).toBe(false);
    expect(SortedDomainList.from([]).has('a.example')).toBe(false);
  });
});

describe('loadDisposableDomains', () => {
  it("holds every domain of mailchecker's list and nothing else", () => {
    const require = createRequire(import.meta.url);
    const maintained = [...(require('mailchecker') as { blacklist(): Set<string> }).blacklist()];
    const list = loadDisposableDomains();
    expect(maintained.length).toBeGreaterThan(10_000);
    expect(maintained.every((domain) => list.has(domain))).toBe(true);
    expect(list.has('mailinator.com')).toBe(true);
    expect(list.has('gmail.com')).toBe(false);
    expect(list.has('example.com')).toBe(false);
    // Its own copy: a domain added to the package's list later is not in it.
    require('mailchecker').addCustomDomains(['added-after-load.example']);
    expect(list.has('added-after-load.example')).toBe(false);
  });
});
