import { type Context, SpanKind } from '@opentelemetry/api';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import type { ReadableSpan, Sampler, SamplingResult, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * The standalone service's OpenTelemetry SDK (docs/operations.md, tracing): traces over OTLP/HTTP
 * (JSON) when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, nothing
 * otherwise. The SDK reads the rest of its standard variables itself: OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*.
 *
 * The database driver is instrumented by hooking `require`, so the hook must be in place before
 * anything loads mysql2: main.ts calls `instrumentDatabaseDriver()` first and imports the rest
 * after it. When tracing turns out to be off, `start` removes the instrumentation again, and the
 * driver runs unwrapped.
 */
export interface PendingTracing {
  /** Starts the SDK when `enabled`; otherwise removes the driver's instrumentation. */
  start(enabled: boolean): Promise<RunningTracing>;
}

export interface RunningTracing {
  /** Sends what is still buffered (waiting at most `flushTimeoutInMs` for the collector) and stops; a no-op when tracing is off. */
  stop(): Promise<void>;
}

/** A collector that does not answer must not hold up a drain. */
const flushTimeoutInMs = 2_000;

const notTracing: RunningTracing = { stop: async () => {} };

export function instrumentDatabaseDriver(): PendingTracing {
  // Statement text only, its literals masked: parameters (addresses, hashes) never reach a span.
  const mysql2 = new MySQL2Instrumentation({ maskStatement: true });
  return {
    async start(enabled) {
      if (!enabled) {
        mysql2.disable();
        return notTracing;
      }
      // Loaded only when used: the SDK and its exporter cost nothing to a service that does not trace.
      const [{ NodeSDK }, { OTLPTraceExporter }, { BatchSpanProcessor, ParentBasedSampler, SamplingDecision }, resources] =
        await Promise.all([
          import('@opentelemetry/sdk-node'),
          import('@opentelemetry/exporter-trace-otlp-http'),
          import('@opentelemetry/sdk-trace-base'),
          import('@opentelemetry/resources'),
        ]);
      /** A query with no traced operation around it (the outbox's polling, the revocation feed) starts no trace. */
      const noStrayQueries: Sampler = {
        shouldSample(_context: Context, _traceId: string, _name: string, kind: SpanKind): SamplingResult {
          return { decision: kind === SpanKind.CLIENT ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED };
        },
        toString: () => 'NoStrayQueries',
      };
      const sdk = new NodeSDK({
        resource: resources.defaultResource().merge(resources.resourceFromAttributes({ 'service.name': 'iam' })),
        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, and the host name; no process details (its arguments, its owner).
        resourceDetectors: [resources.envDetector, resources.hostDetector],
        sampler: new ParentBasedSampler({ root: noStrayQueries }),
        spanProcessors: [withoutMessages(new BatchSpanProcessor(new OTLPTraceExporter()))],
        instrumentations: [mysql2],
        // Traces only: no metrics (GET /metrics has them) and no log export (pino writes the logs).
        metricReaders: [],
        logRecordProcessors: [],
      });
      sdk.start();
      return {
        stop: () =>
          Promise.race([sdk.shutdown().catch(() => {}), new Promise<void>((resolve) => setTimeout(resolve, flushTimeoutInMs).unref())]),
      };
    },
  };
}

/**
 * Drops error messages and exception events before export: a driver's message may quote the
 * values of a query (`Duplicate entry 'someone@example.com'`). The error's code stays, as
 * `error.type` or the status.
 */
function withoutMessages(next: SpanProcessor): SpanProcessor {
  return {
    onStart: (span: Span, context: Context) => next.onStart(span, context),
    onEnd(span: ReadableSpan) {
      if (span.status.message === undefined && !span.events.some((event) => event.name === 'exception')) {
        next.onEnd(span);
        return;
      }
      next.onEnd(
        Object.create(span, {
          status: { value: { code: span.status.code } },
          events: { value: span.events.filter((event) => event.name !== 'exception') },
        }) as ReadableSpan,
      );
    },
    forceFlush: () => next.forceFlush(),
    shutdown: () => next.shutdown(),
  };
}
