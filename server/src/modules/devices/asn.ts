import { fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
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
 * The network that announces an address, from the offline ASN tables of the
 * `@ip-location-db/asn` package (RouteViews and DB-IP data, CC BY 4.0; refreshed by bumping
 * the package).
 *
 * The tables are searched where they lie: each CSV file is sorted by range start, so a binary
 * search over its bytes (a positioned read of one line per step, ~25 steps) finds the row of an
 * address without loading the file. Nothing is parsed at start or on the first lookup (parsing
 * took ~0.8 s and held ~20 MB of typed arrays and organisation names for the process's life, and
 * twice that while parsing); the kernel's page cache keeps the hot pages, outside this process's
 * resident set. ~15 µs a lookup from the page cache, nothing for an address
 * looked up recently.
 */
export function lookupNetworkOwner(ip: string | null, extraHostingAsns: ReadonlySet<number> = new Set()): NetworkOwner | null {
  if (!ip) return null;
  let row = recent.get(ip);
  if (!row) {
    if (isIPv4(ip)) row = { found: findRow('ipv4', String(ipv4ToNumber(ip))) };
    else if (isIPv6(ip)) row = { found: findRow('ipv6', ipv6ToBigInt(ip).toString()) };
    else return null;
    recent.set(ip, row);
  }
  if (!row.found) return null;
  const { asn, organisation } = row.found;
  return { asn, organisation, hosting: knownHostingAsns.has(asn) || extraHostingAsns.has(asn) || hostingNamePattern.test(organisation) };
}

interface Row {
  asn: number;
  organisation: string;
}

/** Rows of recently seen addresses: a session refreshes from the same address again and again. */
const recent = new LRUCache<string, { found: Row | null }>({ max: 10_000 });

const tables: { ipv4?: CsvTable; ipv6?: CsvTable } = {};

function findRow(family: 'ipv4' | 'ipv6', value: string): Row | null {
  tables[family] ??= openTable(family);
  return tables[family].find(value);
}

/** The tables are found through the package's own manifest, from the TypeScript source and from a bundled build alike. */
function openTable(family: 'ipv4' | 'ipv6'): CsvTable {
  const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
  return new CsvTable(path.join(directory, `asn-${family}-num.csv`));
}

/** How many steps of the binary search keep the rows they read: half of a lookup's reads, for ~500 kB. */
const shallowSteps = 12;
const comma = 0x2c;
const newline = 0x0a;

/**
 * Compares two non-negative integers written in decimal without leading zeros (the tables'
 * bounds, up to 39 digits for IPv6): the longer is larger, equal lengths compare as text.
 */
function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One table, rows `start,end,asn,organisation` (the organisation may be quoted), sorted by
 * start, read through a file descriptor kept open for the process's life.
 */
export class CsvTable {
  private readonly fd: number;
  private readonly size: number;
  private readonly window = Buffer.alloc(512);
  /** The rows at the positions the first steps of every search probe (at most 4095). */
  private readonly shallow = new Map<number, ParsedLine | null>();

  constructor(file: string) {
    this.fd = openSync(file, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** The row whose range holds `value` (decimal), or null. */
  find(value: string): Row | null {
    // The last line whose start is at most `value`: bisect over byte positions, each position
    // standing for the first line that begins at or after it.
    let low = 0;
    let high = this.size - 1;
    let best: ParsedLine | null = null;
    for (let step = 0; low <= high; step++) {
      const middle = Math.floor((low + high) / 2);
      let line: ParsedLine | null | undefined;
      // The first steps probe the same few positions for every address: kept once read.
      if (step < shallowSteps) {
        line = this.shallow.get(middle);
        if (line === undefined) {
          line = this.lineFrom(middle);
          this.shallow.set(middle, line);
        }
      } else line = this.lineFrom(middle);
      if (line === null || compareDecimal(line.start, value) > 0) high = middle - 1;
      else {
        best = line;
        low = line.next;
      }
    }
    if (best === null || compareDecimal(value, best.end) > 0) return null;
    return { asn: best.asn, organisation: best.organisation };
  }

  /** The first row beginning at or after `position` (a line begins at 0 or after a newline), or null past the last. */
  private lineFrom(position: number): ParsedLine | null {
    // Usually one read: the newline before the line and the line itself (at most ~250 bytes) in one window.
    const from = position === 0 ? 0 : position - 1;
    const chunk = this.read(from);
    const cut = position === 0 ? 0 : chunk.indexOf(newline) + 1;
    if (cut > 0 || position === 0) {
      const lineEnd = chunk.indexOf(newline, cut);
      if (lineEnd !== -1) {
        const parsed = parseLine(chunk.subarray(cut, lineEnd), from + lineEnd + 1);
        if (parsed) return parsed;
      }
    }
    // The general case: a line longer than the window, the last line, or one that is not a row.
    let lineStart = 0;
    if (position > 0) {
      const before = this.indexOfNewline(position - 1);
      if (before === -1) return null;
      lineStart = before + 1;
    }
    for (;;) {
      if (lineStart >= this.size) return null;
      const found = this.indexOfNewline(lineStart);
      const lineEnd = found === -1 ? this.size : found;
      const line = Buffer.alloc(lineEnd - lineStart);
      readSync(this.fd, line, 0, line.length, lineStart);
      const parsed = parseLine(line, lineEnd + 1);
      if (parsed) return parsed;
      lineStart = lineEnd + 1;
    }
  }

  private indexOfNewline(from: number): number {
    for (let at = from; at < this.size; ) {
      const chunk = this.read(at);
      const index = chunk.indexOf(newline);
      if (index !== -1) return at + index;
      at += chunk.length;
    }
    return -1;
  }

  private read(position: number): Buffer {
    const read = readSync(this.fd, this.window, 0, Math.min(this.window.length, this.size - position), position);
    return this.window.subarray(0, read);
  }
}

interface ParsedLine {
  start: string;
  end: string;
  asn: number;
  organisation: string;
  /** Where the next line begins. */
  next: number;
}

/** One row's fields, or null for a line that is not `start,end,asn,organisation`. */
function parseLine(line: Buffer, next: number): ParsedLine | null {
  const first = line.indexOf(comma);
  const second = first === -1 ? -1 : line.indexOf(comma, first + 1);
  const third = second === -1 ? -1 : line.indexOf(comma, second + 1);
  if (third === -1) return null;
  const organisation = line
    .toString('utf8', third + 1)
    .replace(/\r$/, '')
    .replace(/^"|"$/g, '');
  return {
    start: line.toString('latin1', 0, first),
    end: line.toString('latin1', first + 1, second),
    asn: Number(line.toString('latin1', second + 1, third)),
    organisation,
    next,
  };
}
