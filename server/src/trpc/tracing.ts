import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { traceFieldsOf, withSpan } from '../modules/telemetry/tracing';
import { iamCodeOf } from './errors';
import { middleware } from './init';

/**
 * One span per procedure call, `trpc <path>` (docs/operations.md, tracing): the root of its trace
 * in the standalone service, a child of the host's request span in a host app that traces. It
 * records the procedure and the outcome (the catalog code of a refusal), nothing of the caller:
 * no input, address, IP, user agent or user id. Outermost on the ladder, so it sees the error as
 * the wire does.
 */
export const withProcedureSpan = middleware(({ ctx, path, next }) =>
  withSpan(
    `trpc ${path}`,
    async (span) => {
      const fields = traceFieldsOf(span);
      if (fields) ctx.onTraced?.(fields);
      const result = await next();
      if (result.ok) span.setAttribute('iam.outcome', 'ok');
      else {
        span.setAttributes({ 'iam.outcome': 'error', 'iam.code': iamCodeOf(result.error) });
        // A refusal is the service working; only a failure of its own (5xx) marks the span an error.
        if (getHTTPStatusCodeFromError(result.error) >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return result;
    },
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'trpc', 'rpc.method': path } },
  ),
);
