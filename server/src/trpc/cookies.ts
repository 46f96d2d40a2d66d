import { cookieNames } from '@iam/shared';
import type { Request, Response } from 'express';

type CookieKey = keyof typeof cookieNames;

/**
 * The service's cookies (docs/api.md). In secure mode names carry the `__Host-` prefix, which
 * browsers accept only with `Secure`, `Path=/` and no `Domain` (RFC 6265bis §4.1.3.2).
 */
export function cookieName(key: CookieKey, secure: boolean): string {
  return secure ? `__Host-${cookieNames[key]}` : cookieNames[key];
}

/** Browsers keep a cookie at most 400 days (RFC 6265bis §5.6.1); the canary asks for that. */
const canaryMaxAgeInMs = 400 * 24 * 3600 * 1000;

export interface CookieJar {
  get(key: CookieKey): string | null;
  /** Sets the refresh cookie and its readable `iam_iat` companion. */
  setSession(refreshToken: string, issuedAt: Date, expiresAt: Date): void;
  /** Clears `iam_rt` and `iam_iat`; `iam_cid` stays, it names the device, not the session. */
  clearSession(): void;
  setCanary(value: string): void;
}

export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!cookies.has(name)) cookies.set(name, safeDecode(value));
  }
  return cookies;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Cookies of an HTTP request; without a response (in-process calls) writes go nowhere. */
export function createCookieJar(req: Pick<Request, 'headers'> | undefined, res: Response | undefined, secure: boolean): CookieJar {
  const incoming = parseCookieHeader(req?.headers.cookie);
  const base = { path: '/', secure, sameSite: 'strict' as const };
  return {
    get: (key) => incoming.get(cookieName(key, secure)) ?? null,
    setSession(refreshToken, issuedAt, expiresAt) {
      if (!res) return;
      const maxAge = Math.max(0, expiresAt.getTime() - Date.now());
      res.cookie(cookieName('refreshToken', secure), refreshToken, { ...base, httpOnly: true, maxAge });
      // Readable by scripts on purpose: it lets a frontend plan rotation. Never trusted.
      res.cookie(cookieName('issuedAt', secure), String(Math.floor(issuedAt.getTime() / 1000)), { ...base, httpOnly: false, maxAge });
    },
    clearSession() {
      if (!res) return;
      res.clearCookie(cookieName('refreshToken', secure), { ...base, httpOnly: true });
      res.clearCookie(cookieName('issuedAt', secure), { ...base, httpOnly: false });
    },
    setCanary(value) {
      if (!res) return;
      // Lax, not Strict: it must also arrive on top-level navigations back from a provider.
      res.cookie(cookieName('canary', secure), value, { path: '/', secure, sameSite: 'lax', httpOnly: true, maxAge: canaryMaxAgeInMs });
    },
  };
}
