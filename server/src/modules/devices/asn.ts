import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { ipv4ToNumber, ipv6ToBigInt } from './network';

export interface NetworkOwner {
  asn: number;
  organisation: string;
  /** A hosting, cloud, VPN or proxy network rather than an access provider. */
  hosting: boolean;
}

/**
 * Autonomous systems whose addresses are servers rather than people: the large clouds
 * and hosters, VPN and proxy operators. Extended by organisation-name patterns below and
 * by `anomaly.hostingAsns` in the config file.
 */
export const knownHostingAsns = new Set([
  16509,
  14618,
  8987, // Amazon
  15169,
  396982,
  19527, // Google
  8075,
  8068,
  8069, // Microsoft
  14061, // DigitalOcean
  16276, // OVH
  24940,
  213230, // Hetzner
  63949, // Akamai Linode
  20473, // Vultr (Choopa)
  31898, // Oracle
  45102,
  37963, // Alibaba
  132203,
  45090, // Tencent
  12876, // Scaleway
  51167, // Contabo
  60781,
  28753, // Leaseweb
  9009, // M247 (VPN exits)
  212238,
  60068, // Datacamp / CDN77 (VPN exits)
  36352, // ColoCrossing
  53667, // FranTech (BuyVM)
  207990, // HostRoyale
  35916, // Multacom
  46606, // Unified Layer
  26496, // GoDaddy
  62567, // DigitalOcean
  13335, // Cloudflare (WARP)
  60729,
  208294,
  205100,
  4224, // Tor exit operators (Zwiebelfreunde, F3 Netze, Calyx)
]);

const hostingNamePattern = /\b(hosting|host|cloud|data ?cent(er|re)|datacenter|servers?|vps|colo(cation)?|dedicated|vpn|proxy|tor exit)\b/i;

interface Table<T> {
  starts: T[] | Float64Array;
  ends: T[] | Float64Array;
  asns: Uint32Array;
}

interface AsnData {
  ipv4: Table<number>;
  ipv6: Table<bigint>;
  organisations: Map<number, string>;
}

let data: AsnData | undefined;

/**
 * The network that announces an address, from the offline ASN tables of the
 * `@ip-location-db/asn` package (RouteViews and DB-IP data, CC BY 4.0; refreshed by bumping
 * the package). Loaded on first use (~1 s, a few MB).
 */
export function lookupNetworkOwner(ip: string | null, extraHostingAsns: ReadonlySet<number> = new Set()): NetworkOwner | null {
  if (!ip) return null;
  data ??= load();
  let index = -1;
  if (isIPv4(ip)) index = search(data.ipv4, ipv4ToNumber(ip));
  else if (isIPv6(ip)) index = search(data.ipv6, ipv6ToBigInt(ip));
  if (index < 0) return null;
  const asn = (isIPv4(ip) ? data.ipv4 : data.ipv6).asns[index] ?? 0;
  const organisation = data.organisations.get(asn) ?? '';
  return { asn, organisation, hosting: knownHostingAsns.has(asn) || extraHostingAsns.has(asn) || hostingNamePattern.test(organisation) };
}

function search<T extends number | bigint>(table: Table<T>, value: T): number {
  let low = 0;
  let high = table.asns.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const start = table.starts[middle] as T;
    const end = table.ends[middle] as T;
    if (value < start) high = middle - 1;
    else if (value > end) low = middle + 1;
    else return middle;
  }
  return -1;
}

function load(): AsnData {
  const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
  const organisations = new Map<number, string>();
  const ipv4 = parse(readFileSync(path.join(directory, 'asn-ipv4-num.csv'), 'utf8'), organisations, Number);
  const ipv6 = parse(readFileSync(path.join(directory, 'asn-ipv6-num.csv'), 'utf8'), organisations, BigInt);
  return { ipv4: ipv4 as Table<number>, ipv6: ipv6 as Table<bigint>, organisations };
}

function parse<T>(
  csv: string,
  organisations: Map<number, string>,
  toNumber: (text: string) => T,
): { starts: T[]; ends: T[]; asns: Uint32Array } {
  const lines = csv.split('\n');
  const starts: T[] = [];
  const ends: T[] = [];
  const asns = new Uint32Array(lines.length);
  let count = 0;
  for (const line of lines) {
    if (!line) continue;
    const first = line.indexOf(',');
    const second = line.indexOf(',', first + 1);
    const third = line.indexOf(',', second + 1);
    if (first < 0 || second < 0 || third < 0) continue;
    const asn = Number(line.slice(second + 1, third));
    starts.push(toNumber(line.slice(0, first)));
    ends.push(toNumber(line.slice(first + 1, second)));
    asns[count++] = asn;
    if (!organisations.has(asn)) organisations.set(asn, line.slice(third + 1).replace(/^"|"$/g, ''));
  }
  return { starts, ends, asns: asns.subarray(0, count) };
}
