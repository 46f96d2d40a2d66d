import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A desktop browser's user agent: the anomaly checks treat a missing or bot UA as a risk. */
export const browserUserAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

export interface CallResult {
  status: number;
  body: unknown;
  cookies: Map<string, string>;
}

/** One tRPC call over HTTP, as a browser on the same site would make it (superjson envelope). */
export async function trpc(
  trpcUrl: string,
  procedure: string,
  opts: { input?: unknown; query?: boolean; cookie?: string; bearer?: string } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { 'user-agent': browserUserAgent };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  const response = opts.query
    ? await fetch(`${trpcUrl}/${procedure}`, { headers })
    : await fetch(`${trpcUrl}/${procedure}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ json: opts.input ?? null }),
      });
  return { status: response.status, body: await response.json(), cookies: setCookies(response.headers.getSetCookie()) };
}

/** The data of a successful tRPC call, or an error naming the procedure and its refusal. */
export function dataOf<T>(procedure: string, result: CallResult): T {
  const body = result.body as { result?: { data?: { json?: T } }; error?: unknown };
  if (result.status !== 200 || body.result?.data?.json === undefined) {
    throw new Error(`${procedure} answered ${result.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return body.result.data.json;
}

export function setCookies(lines: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of lines) {
    const pair = line.split(';', 1)[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return cookies;
}

/** The 6-digit code of the latest mail to `to` in the development outbox. */
export async function codeFromOutbox(dataDir: string, to: string): Promise<string> {
  const outbox = path.join(dataDir, 'outbox');
  for (let attempt = 0; attempt < 100; attempt++) {
    const files = (await readdir(outbox).catch(() => [] as string[]))
      .filter((file) => file.endsWith('.json'))
      .sort()
      .reverse();
    for (const file of files) {
      const message = JSON.parse(await readFile(path.join(outbox, file), 'utf8')) as { to: string | string[]; text: string };
      if ([message.to].flat().includes(to)) {
        const code = /\b(\d{6})\b/.exec(message.text)?.[1];
        if (code) return code;
      }
    }
    await sleep(50);
  }
  throw new Error(`no mail to ${to} in ${outbox}`);
}

/** A raw keep-alive POST for the custom load loops (one agent per simulated client). */
export function post(
  agent: http.Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; setCookie: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            setCookie: response.headers['set-cookie'] ?? [],
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
