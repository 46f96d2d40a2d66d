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

/**
 * Address ranges sorted by start, as parallel typed arrays: compact (~12 B a row), and
 * nothing in them points back into the CSV text.
 */
interface Ipv4Table {
  starts: Float64Array;
  ends: Float64Array;
  asns: Uint32Array;
}

/** IPv6 bounds as 128-bit integers split into high and low 64-bit halves. */
interface Ipv6Table {
  startsHigh: BigUint64Array;
  startsLow: BigUint64Array;
  endsHigh: BigUint64Array;
  endsLow: BigUint64Array;
  asns: Uint32Array;
}

interface AsnData {
  ipv4: Ipv4Table;
  ipv6: Ipv6Table;
  organisations: Map<number, string>;
}

let data: AsnData | undefined;

/**
 * The network that announces an address, from the offline ASN tables of the
 * `@ip-location-db/asn` package (RouteViews and DB-IP data, CC BY 4.0; refreshed by bumping
 * the package). Loaded on first use (~0.5 s; ~25 MB resident, where splitting the CSV into
 * strings took ~145 MB at its peak and kept the CSV text alive through sliced names).
 */
export function lookupNetworkOwner(ip: string | null, extraHostingAsns: ReadonlySet<number> = new Set()): NetworkOwner | null {
  if (!ip) return null;
  data ??= load();
  let asn: number | undefined;
  if (isIPv4(ip)) asn = searchIpv4(data.ipv4, ipv4ToNumber(ip));
  else if (isIPv6(ip)) asn = searchIpv6(data.ipv6, ipv6ToBigInt(ip));
  if (asn === undefined) return null;
  const organisation = data.organisations.get(asn) ?? '';
  return { asn, organisation, hosting: knownHostingAsns.has(asn) || extraHostingAsns.has(asn) || hostingNamePattern.test(organisation) };
}

function searchIpv4(table: Ipv4Table, value: number): number | undefined {
  let low = 0;
  let high = table.asns.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (value < (table.starts[middle] as number)) high = middle - 1;
    else if (value > (table.ends[middle] as number)) low = middle + 1;
    else return table.asns[middle];
  }
  return undefined;
}

const low64 = (1n << 64n) - 1n;

function searchIpv6(table: Ipv6Table, value: bigint): number | undefined {
  const high64 = value >> 64n;
  const lowPart = value & low64;
  // -1, 0, 1 as (high64, lowPart) compares with row `i`'s bound.
  const compare = (highs: BigUint64Array, lows: BigUint64Array, i: number) => {
    const high = highs[i] as bigint;
    if (high64 !== high) return high64 < high ? -1 : 1;
    const low = lows[i] as bigint;
    return lowPart === low ? 0 : lowPart < low ? -1 : 1;
  };
  let low = 0;
  let high = table.asns.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (compare(table.startsHigh, table.startsLow, middle) < 0) high = middle - 1;
    else if (compare(table.endsHigh, table.endsLow, middle) > 0) low = middle + 1;
    else return table.asns[middle];
  }
  return undefined;
}

function load(): AsnData {
  const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
  const organisations = new Map<number, string>();
  const ipv4Rows = parseRows(readFileSync(path.join(directory, 'asn-ipv4-num.csv')), organisations);
  const ipv4: Ipv4Table = { starts: new Float64Array(ipv4Rows.count), ends: new Float64Array(ipv4Rows.count), asns: ipv4Rows.asns };
  ipv4Rows.forEachBound((i, start, end) => {
    ipv4.starts[i] = Number(start);
    ipv4.ends[i] = Number(end);
  });
  const ipv6Rows = parseRows(readFileSync(path.join(directory, 'asn-ipv6-num.csv')), organisations);
  const n = ipv6Rows.count;
  const ipv6: Ipv6Table = {
    startsHigh: new BigUint64Array(n),
    startsLow: new BigUint64Array(n),
    endsHigh: new BigUint64Array(n),
    endsLow: new BigUint64Array(n),
    asns: ipv6Rows.asns,
  };
  ipv6Rows.forEachBound((i, start, end) => {
    const first = BigInt(start);
    const last = BigInt(end);
    ipv6.startsHigh[i] = first >> 64n;
    ipv6.startsLow[i] = first & low64;
    ipv6.endsHigh[i] = last >> 64n;
    ipv6.endsLow[i] = last & low64;
  });
  return { ipv4, ipv6, organisations };
}

const comma = 0x2c;
const newline = 0x0a;

/**
 * Rows `start,end,asn,organisation` of one CSV file, read from its bytes: the ASNs, the
 * organisation of each ASN not seen before (its own string, decoded from the bytes), and
 * the bounds handed out as short decimal strings, one row at a time.
 */
function parseRows(csv: Buffer, organisations: Map<number, string>) {
  // Offsets of the rows' fields: start, first comma, second comma, third comma.
  const fields: number[] = [];
  const asnList: number[] = [];
  for (let lineStart = 0; lineStart < csv.length; ) {
    let lineEnd = csv.indexOf(newline, lineStart);
    if (lineEnd === -1) lineEnd = csv.length;
    const first = csv.indexOf(comma, lineStart);
    const second = first === -1 || first >= lineEnd ? -1 : csv.indexOf(comma, first + 1);
    const third = second === -1 || second >= lineEnd ? -1 : csv.indexOf(comma, second + 1);
    if (lineEnd > lineStart && third !== -1 && third < lineEnd) {
      const asn = Number(csv.toString('latin1', second + 1, third));
      fields.push(lineStart, first, second);
      asnList.push(asn);
      if (!organisations.has(asn)) organisations.set(asn, csv.toString('utf8', third + 1, lineEnd).replace(/^"|"$/g, ''));
    }
    lineStart = lineEnd + 1;
  }
  const count = asnList.length;
  return {
    count,
    asns: Uint32Array.from(asnList),
    forEachBound(visit: (index: number, start: string, end: string) => void) {
      for (let i = 0; i < count; i++) {
        const lineStart = fields[i * 3] as number;
        const first = fields[i * 3 + 1] as number;
        const second = fields[i * 3 + 2] as number;
        visit(i, csv.toString('latin1', lineStart, first), csv.toString('latin1', first + 1, second));
      }
    },
  };
}
