import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface PwnedRequest {
  /** The path segment after `/range/`, as sent (the real API wants 5 hex digits). */
  prefix: string;
  /** The request carried `Add-Padding: true`. */
  padding: boolean;
}

export interface PwnedPeer {
  /** Base URL to use as `HIBP_API_URL`. */
  url: string;
  /** Every range request, oldest first. */
  requests: PwnedRequest[];
  /** `ok` answers; `error` answers 503; `hang` reads the request and never answers. */
  setDown(mode: 'ok' | 'error' | 'hang'): void;
  /** Adds a password to the breach corpus, seen `count` times (random when omitted; 0 makes it look like a padding line). */
  add(password: string, count?: number): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const prefixPattern = /^[0-9A-Fa-f]{5}$/;

/**
 * An in-process stand-in for the Pwned Passwords range API (`GET /range/{first 5 hex of the
 * SHA-1}`), on 127.0.0.1 and a free port: the 35-hex-digit uppercase suffixes of the matching
 * hashes as `SUFFIX:COUNT` lines, plus count-0 padding lines to 800–1,000 lines when asked
 * with `Add-Padding: true`, as the real API does.
 */
export async function startPwnedPasswordsPeer(breached: string[] = []): Promise<PwnedPeer> {
  // prefix → suffix → count
  const corpus = new Map<string, Map<string, number>>();
  const requests: PwnedRequest[] = [];
  let mode: 'ok' | 'error' | 'hang' = 'ok';

  const add = (password: string, count = randomInt(1, 100_000)): void => {
    const hash = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const range = corpus.get(hash.slice(0, 5)) ?? new Map<string, number>();
    range.set(hash.slice(5), count);
    corpus.set(hash.slice(0, 5), range);
  };
  for (const password of breached) add(password);

  const sockets = new Set<Socket>();
  const server = createServer((request, response) => handle(request, response));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  function handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://peer').pathname;
    const match = /^\/range\/([^/]*)$/.exec(path);
    if (!match || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const prefix = decodeURIComponent(match[1] ?? '');
    const padding = String(request.headers['add-padding']).toLowerCase() === 'true';
    requests.push({ prefix, padding });
    if (mode === 'hang') return;
    if (mode === 'error') {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('Service unavailable');
      return;
    }
    if (!prefixPattern.test(prefix)) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('The hash prefix was not in a valid format');
      return;
    }
    const lines = [...(corpus.get(prefix.toUpperCase()) ?? new Map<string, number>())].map(([suffix, count]) => `${suffix}:${count}`);
    if (padding) {
      const target = randomInt(800, 1_001);
      while (lines.length < target) lines.push(`${randomBytes(18).toString('hex').slice(0, 35).toUpperCase()}:0`);
      lines.sort();
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve, reject) => {
      for (const socket of sockets) socket.destroy();
      server.close((error) => (error ? reject(error) : resolve()));
    });
    return closed;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setDown(next) {
      mode = next;
    },
    add,
    close,
    [Symbol.asyncDispose]: close,
  };
}
