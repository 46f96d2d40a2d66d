import type { RequestHandler } from 'express';
import type { Services } from '../modules/auth/services';
import { sendJsonError } from './errorEnvelope';

/**
 * The browser-origin rule of every API mount (`/trpc`, `/api/v1`): the origin of PUBLIC_URL and
 * the configured CORS origins may call with credentials (their preflight is answered here); a
 * request from any other origin that is not a `GET` is refused before it runs. Requests without
 * an `Origin` (servers, scripts) pass. Answers are never cached.
 */
export function createOriginPolicy(services: Pick<Services, 'settings' | 'logger'>, corsOrigins: readonly string[] = []): RequestHandler {
  const allowedOrigins = new Set([new URL(services.settings.publicUrl).origin, ...corsOrigins]);
  return (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    const origin = req.headers.origin;
    if (origin && allowedOrigins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
        res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, trpc-accept, x-request-id');
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    } else if (origin && req.method !== 'GET') {
      // `Origin: null` (sandboxed frames, some redirects) is foreign too.
      // A browser on a foreign origin may not change state here (OWASP ASVS 4.0 V4.2.2, CSRF).
      // Logged with the origins that are allowed: a page opened on another host name than
      // PUBLIC_URL's (127.0.0.1 for localhost) is the usual cause, and shows at a glance.
      services.logger.warn(
        { origin: origin.slice(0, 200), path: req.path, allowedOrigins: [...allowedOrigins], status: 403 },
        'cross-origin request refused: origin not allowed (PUBLIC_URL or CORS_ORIGINS)',
      );
      sendJsonError(res, 'FORBIDDEN', { message: 'Origin not allowed.' });
      return;
    }
    next();
  };
}
