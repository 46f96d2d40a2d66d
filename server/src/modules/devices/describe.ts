import { lookupNetworkOwner, type NetworkOwner } from './asn';
import { isBotUserAgent } from './bot';
import { canaryHash } from './canary';
import { type ClientInfo, type DeviceType, parseUserAgent } from './clientInfo';
import { type GeoLocation, lookupGeo } from './geo';
import { networkOf } from './network';

/** What the service can tell about a request's client: the raw material of the fingerprint. */
export interface ClientDescription {
  canaryHash: string | null;
  ip: string | null;
  userAgent: string | null;
  browser: string | null;
  os: string | null;
  deviceType: DeviceType;
  network: string | null;
  geo: GeoLocation | null;
  owner: NetworkOwner | null;
  bot: boolean;
}

/** The configured extra hosting ASNs as a set, built once per configuration, not per request. */
const hostingAsnSets = new WeakMap<readonly number[], ReadonlySet<number>>();
function hostingAsnSet(asns: readonly number[]): ReadonlySet<number> {
  let set = hostingAsnSets.get(asns);
  if (!set) {
    set = new Set(asns);
    hostingAsnSets.set(asns, set);
  }
  return set;
}

/** How a client is described: its network's prefix lengths and the ASNs counted as hosting besides the built-in list. */
export interface DescribeOptions {
  networkPrefixes: { ipv4: number; ipv6: number };
  hostingAsns: readonly number[];
}

export function describeClient(client: ClientInfo, config: DescribeOptions): ClientDescription {
  const agent = parseUserAgent(client.userAgent);
  return {
    // A canary issued in this very response proves nothing about the device.
    canaryHash: client.canary && !client.canaryIsNew ? canaryHash(client.canary) : null,
    ip: client.ip,
    userAgent: client.userAgent,
    browser: agent.browser,
    os: agent.os,
    deviceType: agent.type,
    network: networkOf(client.ip, config.networkPrefixes),
    geo: lookupGeo(client.ip),
    owner: lookupNetworkOwner(client.ip, hostingAsnSet(config.hostingAsns)),
    bot: isBotUserAgent(client.userAgent),
  };
}

/** The place columns of a session or device, cut to their sizes; nulls when unknown. */
export function placeOf(description: ClientDescription): { country: string | null; region: string | null; city: string | null } {
  return {
    country: description.geo?.country ?? null,
    region: description.geo?.region?.slice(0, 100) ?? null,
    city: description.geo?.city?.slice(0, 100) ?? null,
  };
}

/** Where the device is now, for the speed-of-travel check; empty when the address has no coordinates. */
export function locationOf(
  description: ClientDescription,
  now: Date,
): { lastLatitude: number; lastLongitude: number; lastLocatedAt: Date } | Record<string, never> {
  const latitude = description.geo?.latitude;
  const longitude = description.geo?.longitude;
  return latitude != null && longitude != null ? { lastLatitude: latitude, lastLongitude: longitude, lastLocatedAt: now } : {};
}
