import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network an address belongs to, as a prefix string (`203.0.113.0/24`,
 * `2001:db8:1::/48`): two addresses in one prefix are "the same network".
 */
export function networkOf(ip: string | null, prefixes: { ipv4: number; ipv6: number }): string | null {
  if (!ip) return null;
  if (isIPv4(ip)) {
    const value = ipv4ToNumber(ip);
    const mask = prefixes.ipv4 === 0 ? 0 : (0xffffffff << (32 - prefixes.ipv4)) >>> 0;
    return `${numberToIpv4((value & mask) >>> 0)}/${prefixes.ipv4}`;
  }
  if (isIPv6(ip)) {
    const value = ipv6ToBigInt(ip);
    const bits = BigInt(prefixes.ipv6);
    const masked = (value >> (128n - bits)) << (128n - bits);
    return `${masked.toString(16).padStart(32, '0').match(/.{4}/g)?.join(':')}/${prefixes.ipv6}`;
  }
  return null;
}

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export function ipv6ToBigInt(ip: string): bigint {
  let address = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4).
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4?.[1]) {
    const n = ipv4ToNumber(v4[1]);
    address = address.replace(v4[1], `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`);
  }
  const [head = '', tail] = address.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array(tail === undefined ? 0 : missing).fill('0'), ...tailParts];
  return parts.reduce((value, part) => (value << 16n) + BigInt(Number.parseInt(part || '0', 16)), 0n);
}
