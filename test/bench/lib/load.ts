import http from 'node:http';
import autocannon from 'autocannon';
import { browserUserAgent, post } from './http';
import { type LoopResult, timedLoop } from './loop';

export interface HttpLoad {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationInSeconds: number;
  /** Per-connection headers and body (connection `i` of `connections`), e.g. its own user. */
  perConnection?: (index: number) => { headers?: Record<string, string>; body?: string };
  /**
   * Per-request headers and body, the `n`th request of the run whichever connection sends it
   * (e.g. accounts taken round-robin across all connections).
   */
  perRequest?: (n: number) => { headers?: Record<string, string>; body?: string };
}

/**
 * Drives one HTTP endpoint with autocannon over loopback keep-alive connections, one request
 * in flight per connection, for a fixed time. Only 2xx answers count as done.
 */
export async function httpLoad(load: HttpLoad): Promise<LoopResult> {
  let nextConnection = 0;
  let nextRequest = 0;
  const perRequest = load.perRequest;
  const result = await autocannon({
    url: load.url,
    method: load.method ?? 'GET',
    headers: load.headers ?? {},
    ...(load.body !== undefined ? { body: load.body } : {}),
    connections: load.connections,
    pipelining: 1,
    duration: load.durationInSeconds,
    timeout: 30,
    ...(load.perConnection
      ? {
          setupClient: (client: autocannon.Client) => {
            const own = load.perConnection?.(nextConnection++ % load.connections) ?? {};
            if (own.headers) client.setHeaders({ ...load.headers, ...own.headers });
            if (own.body !== undefined) client.setBody(own.body);
          },
        }
      : {}),
    ...(perRequest
      ? {
          requests: [
            {
              method: load.method ?? 'GET',
              path: new URL(load.url).pathname,
              setupRequest: (request: autocannon.Request) => {
                const own = perRequest(nextRequest++);
                return {
                  ...request,
                  headers: { ...request.headers, ...own.headers },
                  ...(own.body !== undefined ? { body: own.body } : {}),
                };
              },
            },
          ],
        }
      : {}),
  });
  const ok = result['2xx'];
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    ok,
    failed,
    durationInSeconds: load.durationInSeconds,
    perSecond: ok / load.durationInSeconds,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    ...(failed > 0 ? { firstError: `${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts` } : {}),
  };
}

/**
 * Drives `session.refresh` from one simulated browser per session, each over its own
 * keep-alive connection: every answer rotates the refresh token, so each client carries the
 * new `iam_rt` into its next request (a fixed cookie would be reuse, and revoke the session).
 * A refresh counts only when it rotated (status `authenticated` and a new cookie).
 */
export async function refreshLoad(trpcUrl: string, cookies: string[], durationInMs: number): Promise<LoopResult> {
  const url = new URL(`${trpcUrl}/session.refresh`);
  const clients = cookies.map((cookie) => ({ cookie, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) }));
  try {
    return await timedLoop({ concurrency: clients.length, durationInMs }, async (worker) => {
      const client = clients[worker];
      if (!client) throw new Error('no client');
      const response = await post(client.agent, url, { cookie: client.cookie, 'user-agent': browserUserAgent }, '{"json":null}');
      const rotated = response.setCookie.find((line) => line.startsWith('iam_rt='));
      if (response.status !== 200 || !rotated || !response.body.includes('"status":"authenticated"')) {
        throw new Error(`session.refresh answered ${response.status}: ${response.body.slice(0, 200)}`);
      }
      const canary = /iam_cid=([^;]+)/.exec(client.cookie)?.[1] ?? '';
      client.cookie = `${rotated.split(';', 1)[0]}; iam_cid=${canary}`;
    });
  } finally {
    for (const client of clients) client.agent.destroy();
  }
}
