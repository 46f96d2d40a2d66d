import { createRequire } from 'node:module';

export interface GeoLocation {
  country: string | null;
  region: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  timezone: string | null;
}

interface GeoipLite {
  lookup(ip: string): { country: string; region: string; city: string; ll: [number | null, number | null]; timezone: string } | null;
}

let geoip: GeoipLite | undefined;

/**
 * Where an IP is, from geoip-lite's offline data (GeoLite2, shipped inside the package:
 * no network at run time; update by bumping the package). Loaded on first use (~0.1 s,
 * ~140 MB). Null for private, loopback and unknown addresses.
 */
export function lookupGeo(ip: string | null): GeoLocation | null {
  if (!ip) return null;
  geoip ??= createRequire(import.meta.url)('geoip-lite') as GeoipLite;
  const hit = geoip.lookup(ip);
  if (!hit?.country) return null;
  const [latitude, longitude] = hit.ll;
  return {
    country: hit.country || null,
    region: hit.region || null,
    city: hit.city || null,
    latitude: latitude ?? null,
    longitude: longitude ?? null,
    timezone: hit.timezone || null,
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
