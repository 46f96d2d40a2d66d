/**
 * A minimal cookie jar for Node callers (scripts, tests, server-side code) that talk to one
 * service: it keeps what the service sets and sends it back, as a browser would.
 */
export interface CookieJar {
  get(name: string): string | undefined;
  /** All cookies as a `Cookie` header value. */
  header(): string;
  /** Records the `Set-Cookie` headers of a response. */
  store(response: Response): void;
  clear(): void;
}

export function createCookieJar(): CookieJar {
  const cookies = new Map<string, { value: string; expiresAt: number | null }>();

  function live(): [string, string][] {
    const now = Date.now();
    const out: [string, string][] = [];
    for (const [name, cookie] of cookies) {
      if (cookie.expiresAt !== null && cookie.expiresAt <= now) cookies.delete(name);
      else out.push([name, cookie.value]);
    }
    return out;
  }

  return {
    get: (name) => live().find(([key]) => key === name)?.[1],
    header: () =>
      live()
        .map(([name, value]) => `${name}=${value}`)
        .join('; '),
    store(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair = '', ...attributes] = line.split(';');
        const eq = pair.indexOf('=');
        if (eq <= 0) continue;
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        let expiresAt: number | null = null;
        for (const attribute of attributes) {
          const [key = '', raw = ''] = attribute.trim().split('=');
          if (key.toLowerCase() === 'max-age') expiresAt = Date.now() + Number(raw) * 1000;
          else if (key.toLowerCase() === 'expires' && expiresAt === null) expiresAt = Date.parse(raw);
        }
        if (expiresAt !== null && expiresAt <= Date.now()) cookies.delete(name);
        else cookies.set(name, { value, expiresAt });
      }
    },
    clear: () => cookies.clear(),
  };
}

/** Wraps `fetch` so every request carries the jar's cookies and every response feeds it. */
export function withCookieJar(jar: CookieJar, baseFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const cookie = jar.header();
    if (cookie) headers.set('cookie', cookie);
    const response = await baseFetch(input, { ...init, headers });
    jar.store(response);
    return response;
  };
}
