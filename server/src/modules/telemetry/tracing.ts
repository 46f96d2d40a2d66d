import { type Attributes, context, isSpanContextValid, type Span, type SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isIamError } from '../errors/iamError';

/**
 * Spans through the OpenTelemetry API alone (docs/operations.md, tracing). Until an SDK registers
 * a tracer provider (the standalone service with OTEL_EXPORTER_OTLP_ENDPOINT, or a host app's
 * own), the API's no-op tracer answers and a span costs next to nothing; once one does, these
 * spans join its traces. Attributes carry machine facts only, never personal data: no address,
 * IP, user agent, token or user id.
 */
const tracer = trace.getTracer('iam');

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * Runs `fn` in a span named `name`, a child of the active one. A domain refusal (`IamError`) is
 * recorded as its code (`iam.code`), anything else as an error with its type: never the message,
 * which may quote input (a database error quotes the duplicate value).
 */
export function withSpan<T>(name: string, fn: (span: Span) => Promise<T>, options: SpanOptions = {}): Promise<T> {
  const span = tracer.startSpan(name, options);
  // Not recorded (no SDK, or a trace the host does not sample): nothing to activate or to end
  // later, so the call runs as it would without the span.
  if (!span.isRecording()) return fn(span);
  return context.with(trace.setSpan(context.active(), span), async () => {
    try {
      return await fn(span);
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `withSpan` for synchronous work (a pure check): the span covers the call and ends with it. */
export function withSpanSync<T>(name: string, fn: (span: Span) => T, options: SpanOptions = {}): T {
  const span = tracer.startSpan(name, options);
  if (!span.isRecording()) return fn(span);
  try {
    return context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** A refusal by its catalog code; anything else as an error with its type, never its message. */
function recordError(span: Span, error: unknown): void {
  if (isIamError(error)) span.setAttribute('iam.code', error.code);
  else {
    span.setAttribute('error.type', errorTypeOf(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}

/** A driver's code (`ER_LOCK_DEADLOCK`, `ECONNREFUSED`) or the error's class. */
function errorTypeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length <= 64) return code;
    if (error instanceof Error) return error.name;
  }
  return typeof error;
}

export interface TraceFields {
  trace_id: string;
  span_id: string;
}

/**
 * The active span's ids for a log line, or nothing (one context lookup when no SDK is
 * registered). A fresh object each time: pino merges the line's own fields into it.
 */
export function activeTraceFields(): Partial<TraceFields> {
  const span = trace.getActiveSpan();
  return (span && traceFieldsOf(span)) ?? {};
}

/** A recorded span's ids as log fields; undefined for a no-op span. */
export function traceFieldsOf(span: Span): TraceFields | undefined {
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}
