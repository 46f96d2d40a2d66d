import pino, { type Logger } from 'pino';

/** Secrets never reach the logs (OWASP ASVS 4.0 V7.1.1): these paths are censored wherever they appear. */
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
  '*.code',
  '*.secret',
  '*.key',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-iam-signature"]',
  'res.headers["set-cookie"]',
];

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'iam',
    level: opts.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: undefined,
  });
}
