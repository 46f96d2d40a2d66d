import pino, { type Logger } from 'pino';
import { activeTraceFields } from './modules/telemetry/tracing';

/**
 * Secrets never reach the logs (OWASP ASVS 4.0 V7.1.1): these paths are censored, at the top
 * level and one level down. `code` is a verification or authorization code where a request's
 * input carries it (top level, or under `input`, `body`, `query` or `params`), but under an
 * error (`err.code`: `ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`) it is what an operator needs, so
 * `code` is not censored under every key.
 */
export const redactedPaths = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'code',
  'secret',
  'key',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  'input.code',
  'body.code',
  'query.code',
  'params.code',
  'req.body.code',
  'req.query.code',
  '*.secret',
  '*.key',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-iam-signature"]',
  'res.headers["set-cookie"]',
];

/** `destination`: where lines go (default stdout). */
export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'iam',
      level: opts.level ?? 'info',
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: undefined,
      // The trace of the work in hand (docs/operations.md, tracing): a line logged inside a span
      // carries its trace_id and span_id; without tracing there is no span and nothing is added.
      mixin: activeTraceFields,
    },
    opts.destination,
  );
}
