import { isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import { UAParser } from 'ua-parser-js';

/** What the service knows of the client making a request. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  /** The device canary (`iam_cid`) the client presented, if any. */
  canary: string | null;
  /** The client presented no canary; `canary` is the one just issued to it. */
  canaryIsNew?: boolean;
  /**
   * The hash (`hashRefreshToken`) of the refresh cookie (`iam_rt`) the browser presented, if
   * any: a sign-in completed here replaces that session when it is the same user's, live, on
   * this device. Only the hash travels, as stored: never the token itself.
   */
  refreshTokenHash?: string;
}

export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'unknown';

export interface ParsedUserAgent {
  browser: string | null;
  os: string | null;
  type: DeviceType;
}

const desktopSystems = new Set([
  'Windows',
  'macOS',
  'Mac OS',
  'Linux',
  'Ubuntu',
  'Debian',
  'Fedora',
  'Chrome OS',
  'Chromium OS',
  'FreeBSD',
  'OpenBSD',
]);

/**
 * Parsed user agents by their string. Parsing one costs ~0.1–0.2 ms (`pnpm bench --profile`:
 * ~4 % of a refresh) and clients send the same few strings all day; the parse is a pure
 * function of the string, so a small bounded cache changes nothing but the cost.
 */
const parsedUserAgents = new LRUCache<string, Readonly<ParsedUserAgent>>({ max: 2_000 });

export function parseUserAgent(userAgent: string | null): ParsedUserAgent {
  if (!userAgent) return { browser: null, os: null, type: 'unknown' };
  const key = userAgent.slice(0, 512);
  const cached = parsedUserAgents.get(key);
  if (cached) return { ...cached };
  const result = new UAParser(key).getResult();
  const browser = result.browser.name ?? null;
  const os = result.os.name ?? null;
  let type: DeviceType = 'unknown';
  if (result.device.type === 'mobile' || result.device.type === 'wearable') type = 'mobile';
  else if (result.device.type === 'tablet') type = 'tablet';
  else if (result.device.type === undefined && os !== null && desktopSystems.has(os)) type = 'desktop';
  const parsed = { browser: browser?.slice(0, 64) ?? null, os: os?.slice(0, 64) ?? null, type };
  parsedUserAgents.set(key, parsed);
  return { ...parsed };
}

/**
 * The browser a BFF acts for, as the BFF forwards it: an address that must parse as an IP
 * (node:net isIP; IPv4-mapped IPv6 is written as IPv4, as for direct clients), the user
 * agent, and the device canary the BFF keeps for that browser. Null when the address is not
 * an IP.
 */
export function forwardedClientInfo(forwarded: { ip: string; userAgent: string; canaryId?: string | undefined }): ClientInfo | null {
  if (isIP(forwarded.ip) === 0) return null;
  const ip = forwarded.ip.toLowerCase().startsWith('::ffff:') && forwarded.ip.includes('.') ? forwarded.ip.slice(7) : forwarded.ip;
  return {
    ip,
    userAgent: forwarded.userAgent === '' ? null : forwarded.userAgent.slice(0, 512),
    canary: forwarded.canaryId ?? null,
  };
}
