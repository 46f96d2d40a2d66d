import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

/**
 * One access log line per HTTP request, written when the response has gone (standalone mode,
 * docs/operations.md, logs): method, path without the query string (it may carry tRPC inputs),
 * status, duration in ms, the request id, and the trace of the request's first call when
 * tracing is on. Health probes are not logged. Headers are never logged, so cookies and
 * tokens cannot reach the line.
 */
export function accessLog(logger: Logger): RequestHandler {
  // Every field of the line is one the service chose (a validated request id, the path without
  // its query, the status, a duration, trace ids), never a value a client can put a secret in, so
  // the line skips the redaction pass that the other logs keep (half its cost, measured).
  const http = logger.child({ log: 'http' }, { redact: [] });
  return (req, res, next) => {
    if (req.url === '/healthz' || req.url === '/readyz') {
      next();
      return;
    }
    const startedAt = performance.now();
    const path = req.originalUrl.split('?', 1)[0];
    const method = req.method;
    res.once('finish', () => {
      const line = {
        req: { id: res.locals.requestId, method, path },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - startedAt),
        ...res.locals.trace,
      };
      if (res.statusCode >= 500) http.error(line, 'request completed');
      else http.info(line, 'request completed');
    });
    next();
  };
}
