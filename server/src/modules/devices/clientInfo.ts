import { UAParser } from 'ua-parser-js';

/** What the service knows of the client making a request. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  /** The device canary (`iam_cid`) the client presented, if any. */
  canary: string | null;
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

export function parseUserAgent(userAgent: string | null): ParsedUserAgent {
  if (!userAgent) return { browser: null, os: null, type: 'unknown' };
  const result = new UAParser(userAgent.slice(0, 512)).getResult();
  const browser = result.browser.name ?? null;
  const os = result.os.name ?? null;
  let type: DeviceType = 'unknown';
  if (result.device.type === 'mobile' || result.device.type === 'wearable') type = 'mobile';
  else if (result.device.type === 'tablet') type = 'tablet';
  else if (result.device.type === undefined && os !== null && desktopSystems.has(os)) type = 'desktop';
  return { browser: browser?.slice(0, 64) ?? null, os: os?.slice(0, 64) ?? null, type };
}
