import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvTable, lookupNetworkOwner } from './asn';

const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));

describe('lookupNetworkOwner', () => {
  it.each([
    ['1.1.1.1', 13335, true],
    ['8.8.8.8', 15169, true],
    ['2606:4700:4700::1111', 13335, true],
    ['2001:4860:4860::8888', 15169, true],
  ])('names the network of %s (AS%i), hosting %s', (ip, asn, hosting) => {
    expect(lookupNetworkOwner(ip)).toMatchObject({ asn, hosting });
  });

  it('takes the organisation without its quotes and counts configured ASNs as hosting', () => {
    const owner = lookupNetworkOwner('1.1.1.1');
    expect(owner?.organisation).toBe('Cloudflare, Inc.');
    const asn = lookupNetworkOwner('81.2.69.142')?.asn as number;
    expect(lookupNetworkOwner('81.2.69.142')?.hosting).toBe(false);
    expect(lookupNetworkOwner('81.2.69.142', new Set([asn]))?.hosting).toBe(true);
  });

  it.each([null, '', 'not-an-ip', '127.0.0.1', '10.0.0.1', '::1', '0.0.0.0'])('knows no network for %j', (ip) => {
    expect(lookupNetworkOwner(ip)).toBeNull();
  });
});

describe('CsvTable', () => {
  /** The reference: every row parsed into memory, searched the obvious way. */
  function reference(family: 'ipv4' | 'ipv6') {
    const rows = readFileSync(path.join(directory, `asn-${family}-num.csv`), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [start = '', end = '', asn = '', ...rest] = line.split(',');
        return { start: BigInt(start), end: BigInt(end), asn: Number(asn), organisation: rest.join(',').replace(/^"|"$/g, '') };
      });
    const find = (value: bigint) => {
      let low = 0;
      let high = rows.length - 1;
      let best = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if ((rows[middle]?.start as bigint) <= value) {
          best = middle;
          low = middle + 1;
        } else high = middle - 1;
      }
      const row = rows[best];
      return row && value <= row.end ? { asn: row.asn, organisation: row.organisation } : null;
    };
    return { rows, find };
  }

  it.each([
    ['ipv4', 4],
    ['ipv6', 16],
  ] as const)('finds the same rows in the %s table as a search of all rows in memory', (family, length) => {
    const { rows, find } = reference(family);
    const table = new CsvTable(path.join(directory, `asn-${family}-num.csv`));
    const values: bigint[] = [0n, (1n << BigInt(length * 8)) - 1n];
    // Every kind of edge: the first and last address of random rows and their neighbours outside.
    for (let i = 0; i < 2_000; i++) {
      const row = rows[randomInt(rows.length)];
      if (row) values.push(row.start, row.end, row.start - 1n, row.end + 1n);
    }
    for (let i = 0; i < 2_000; i++) values.push(BigInt(`0x${randomBytes(length).toString('hex')}`));
    let found = 0;
    for (const value of values) {
      if (value < 0n) continue;
      const expected = find(value);
      expect(table.find(value.toString())).toEqual(expected);
      if (expected) found++;
    }
    expect(found).toBeGreaterThan(4_000);
  });
});
