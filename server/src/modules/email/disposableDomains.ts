import { createRequire } from 'node:module';

/** A set of domains that answers `has` only: what the email policy asks of a domain list. */
export interface DomainLookup {
  has(domain: string): boolean;
}

/**
 * A fixed list of domains as one sorted Buffer of their UTF-8 bytes and a table of where each
 * begins: ~1 MB for mailchecker's ~56 000 domains, where a Set of them held ~6 MB of V8 heap
 * (a string and a hash-table slot each). `has` is a binary search of byte comparisons (~16).
 */
export class SortedDomainList implements DomainLookup {
  private constructor(
    private readonly bytes: Buffer,
    /** Entry `i` is `bytes[starts[i], starts[i + 1])`; one more start than entries. */
    private readonly starts: Uint32Array,
  ) {}

  static from(domains: Iterable<string>): SortedDomainList {
    const encoded = [...new Set(domains)].map((domain) => Buffer.from(domain, 'utf8')).sort(Buffer.compare);
    const starts = new Uint32Array(encoded.length + 1);
    let offset = 0;
    encoded.forEach((domain, i) => {
      starts[i] = offset;
      offset += domain.length;
    });
    starts[encoded.length] = offset;
    return new SortedDomainList(Buffer.concat(encoded, offset), starts);
  }

  get size(): number {
    return this.starts.length - 1;
  }

  has(domain: string): boolean {
    const target = Buffer.from(domain, 'utf8');
    let low = 0;
    let high = this.starts.length - 2;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = target.compare(this.bytes, this.starts[middle], this.starts[middle + 1]);
      if (order === 0) return true;
      if (order < 0) high = middle - 1;
      else low = middle + 1;
    }
    return false;
  }
}

let disposableDomains: SortedDomainList | undefined;

/**
 * The maintained list of disposable domains (the `mailchecker` package; updated by bumping it),
 * copied once per process into a list of its own, so nothing else that loads the package can
 * change ours. The package's module (a 1 MB source holding the list as a Set) is dropped from
 * the require cache again when this loaded it, so that only the compact copy stays in memory.
 */
export function loadDisposableDomains(): DomainLookup {
  if (!disposableDomains) {
    const require = createRequire(import.meta.url);
    const id = require.resolve('mailchecker');
    const loadedBefore = id in require.cache;
    const mailchecker = require('mailchecker') as { blacklist(): Iterable<string> };
    disposableDomains = SortedDomainList.from(mailchecker.blacklist());
    if (!loadedBefore) delete require.cache[id];
  }
  return disposableDomains;
}
