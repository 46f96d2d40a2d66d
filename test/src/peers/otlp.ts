import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP/HTTP JSON export carried it, its attributes decoded to plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for the root of a trace. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  /** The instrumentation scope that made it (`iam`, `@opentelemetry/instrumentation-mysql2`). */
  scope: string;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  /** The resource's attributes (`service.name`, …). */
  resource: Record<string, unknown>;
}

export interface OtlpPeer {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT takes: the exporter appends `/v1/traces`. */
  url: string;
  /** Every request received, whatever its path. */
  requests: Array<{ method: string; path: string; contentType: string | undefined }>;
  spans: ReceivedSpan[];
  /** The first span, already received or still to come, that matches. */
  waitFor(predicate: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
  events?: Array<{ name: string; attributes?: KeyValue[] }>;
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: ExportedSpan[] }>;
  }>;
}

function decodedValue(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(decodedValue);
  if (value.kvlistValue) return attributesOf(value.kvlistValue.values);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue ?? value.bytesValue;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, decodedValue(value)]));
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A trace collector on loopback: OTLP/HTTP with JSON bodies (`POST /v1/traces`, as
 * `@opentelemetry/exporter-trace-otlp-http` sends them), answering each export with success.
 * `port`: a fixed one (0, a free one, by default).
 */
export async function startOtlpPeer(options: { port?: number } = {}): Promise<OtlpPeer> {
  const requests: OtlpPeer['requests'] = [];
  const spans: ReceivedSpan[] = [];
  const waiters: Array<{ predicate: (span: ReceivedSpan) => boolean; resolve: (span: ReceivedSpan) => void }> = [];

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const contentType = req.headers['content-type'];
    requests.push({ method: req.method ?? '', path, contentType });
    const body = await bodyOf(req);
    if (req.method !== 'POST' || path !== '/v1/traces' || !contentType?.startsWith('application/json')) {
      res.writeHead(404).end();
      return;
    }
    const exported = JSON.parse(body) as ExportRequest;
    for (const resourceSpans of exported.resourceSpans ?? []) {
      const resource = attributesOf(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          const received: ReceivedSpan = {
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            scope: scopeSpans.scope?.name ?? '',
            attributes: attributesOf(span.attributes),
            status: span.status ?? {},
            events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
            resource,
          };
          spans.push(received);
          for (const waiter of waiters.filter((candidate) => candidate.predicate(received))) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(received);
          }
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans,
    waitFor(predicate, timeoutMs = 15_000) {
      const found = spans.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          if (!waiters.includes(waiter)) return;
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching span within ${timeoutMs} ms; received: ${spans.map((span) => span.name).join(', ')}`));
        }, timeoutMs).unref();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
