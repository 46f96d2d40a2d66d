import { randomUUID } from 'node:crypto';
import { maxRequestBodyInBytes } from '@iam/shared';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Services } from '../modules/auth/services';
import { constantTimeEqual } from '../modules/crypto/hash';
import { jwksMaxAgeInSeconds } from '../modules/tokens/signingKeys';
import { isSignedRequest } from '../trpc/hmac';
import { accessLog } from './accessLog';
import { createConsoleRoutes } from './consoleAssets';
import { sendJsonError } from './errorEnvelope';
import { createLinkPages } from './linkPages';
import { createOAuthCallbackRoute } from './oauthCallbackRoute';
import { createOriginPolicy } from './originPolicy';
import { createRestRoutes } from './rest/restRoutes';
import { createSamlRoutes } from './samlRoutes';
import { createScimRoutes, scimFallback } from './scimRoutes';
import { createTrpcHandler } from './trpcHandler';

export interface AppOptions {
  trustProxy?: boolean | number | string | undefined;
  /** Browser origins (besides PUBLIC_URL's) allowed to call `/trpc` and `/api/v1` with credentials. */
  corsOrigins?: string[];
  /**
   * `GET /metrics` (Prometheus text). `true` serves it to anyone, a string requires it as a
   * bearer token, `false` turns it off. Default: on.
   */
  metrics?: boolean | string;
  /** Serve the pages emailed links open (`/verify-email`, `/confirm-sign-in`, …). Default: on. */
  linkPages?: boolean;
  /** Log every HTTP request (standalone mode); health probes are never logged. */
  httpLogging?: boolean;
  /** Serve the REST API (`/api/v1/...`), its OpenAPI document (`/openapi.json`) and its reference (`/docs`). Default: on. */
  restApi?: boolean;
  /** Serve the web console at `/console/` (when it is built). Default: on. */
  console?: boolean;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** The express application: headers, request ids, logging, `/trpc`, health and keys. */
export function createApp(services: Services, options: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Without TRUST_PROXY, `X-Forwarded-For` is ignored: the client is the socket's peer.
  app.set('trust proxy', options.trustProxy ?? false);

  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    securityHeaders(res, services.settings.secureCookies);
    next();
  });

  if (options.httpLogging) app.use(accessLog(services.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const ready = await services.pools.ping();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable' });
  });

  app.get('/.well-known/jwks.json', (_req, res) => {
    // A new key is published this long before it signs, so cached copies always know it.
    res.setHeader('Cache-Control', `public, max-age=${jwksMaxAgeInSeconds}`);
    res.json(services.keys.jwks());
  });

  if (options.metrics !== false) {
    app.get('/metrics', async (req, res) => {
      if (typeof options.metrics === 'string' && !constantTimeEqual(req.headers.authorization ?? '', `Bearer ${options.metrics}`)) {
        sendJsonError(res, 'UNAUTHENTICATED');
        return;
      }
      res.setHeader('Content-Type', services.metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(await services.metrics.registry.metrics());
    });
  }

  // One origin rule for both API mounts (OWASP ASVS 4.0 V4.2.2, CSRF).
  const originPolicy = createOriginPolicy(services, options.corsOrigins);
  app.use('/trpc', originPolicy);

  // Signed service calls (`bff.*`): the signature covers the raw body bytes.
  app.use('/trpc', captureSignedBody(services));

  app.use('/trpc', createTrpcHandler(services));

  // SCIM 2.0 provisioning of organizations by their identity providers (bearer tokens of the organization, no cookies).
  app.use('/scim/v2', createScimRoutes(services), scimFallback(services));

  // The default OAuth redirect URI (`/oauth/callback/<id>`), for apps that let the service finish the flow.
  app.use(createOAuthCallbackRoute(services));
  app.use(createSamlRoutes(services));
  if (options.linkPages !== false) app.use(createLinkPages(services));
  // The same procedures over plain HTTP and JSON: `/api/v1/...`, `/openapi.json`, `/docs`.
  if (options.restApi !== false) app.use(createRestRoutes(services, { originPolicy }));
  if (options.console !== false) {
    app.use(createConsoleRoutes());
    // An invitation's mailed link (docs/api.md, emailed links) needs a signed-in user, which the
    // token-only link pages cannot give: the console's page takes it, the token passed on as is.
    app.get('/accept-invitation', (req, res) => {
      const token = typeof req.query.token === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(req.query.token) ? req.query.token : null;
      if (!token) {
        sendJsonError(res, 'LINK_INVALID');
        return;
      }
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, `${req.baseUrl}/console/accept-invitation?token=${token}`);
    });
  }

  app.use((_req, res) => {
    sendJsonError(res, 'NOT_FOUND');
  });

  // Anything that escapes a handler: a generic answer, the detail only in the log.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(error);
    if (status >= 500) services.logger.error({ err: error }, 'unhandled error');
    if (res.headersSent) return;
    if (status >= 500) sendJsonError(res, 'INTERNAL', { status });
    else sendJsonError(res, 'INVALID_INPUT', { status });
  });

  return app;
}

/**
 * tRPC's express adapter reads the body itself, but an HMAC signature covers the exact bytes
 * sent. For a request that carries a signature, read the raw bytes here (≤ 100 kB, no
 * decompression), keep them in `res.locals.signedBody` for the verifier, and give tRPC the
 * same body as a string: @trpc/server 11's node-http adapter (`incomingMessageToRequest`)
 * uses a string `req.body` as the request body unchanged, and a string decoded strictly from
 * UTF-8 (fatal, BOM kept) encodes back to exactly the bytes received, so what tRPC parses is
 * what was signed. A body that is not UTF-8 is refused (RFC 8259 §8.1: JSON is UTF-8).
 */
function captureSignedBody(services: Services): RequestHandler {
  const readRaw = express.raw({ type: () => true, limit: maxRequestBodyInBytes, inflate: false });
  const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return (req, res, next) => {
    if (!isSignedRequest(req) || req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    if (req.body !== undefined || req.readableEnded) {
      // A host app parsed the body before the service saw it: the bytes are gone.
      services.logger.warn('a signed request reached the service with its body already read; mount the service before body parsers');
      res.locals.signedBody = null;
      next();
      return;
    }
    readRaw(req, res, (error?: unknown) => {
      if (error) {
        next(error);
        return;
      }
      const raw: unknown = req.body;
      if (!(raw instanceof Uint8Array)) {
        res.locals.signedBody = new Uint8Array(0);
        next();
        return;
      }
      try {
        req.body = strictUtf8.decode(raw);
      } catch {
        next(Object.assign(new Error('the body is not UTF-8'), { status: 400 }));
        return;
      }
      res.locals.signedBody = raw;
      next();
    });
  };
}

function statusOf(error: unknown): number {
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/** OWASP ASVS 4.0 V14.4: headers every response of an API carries. */
function securityHeaders(res: Response, secure: boolean): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Cross-Origin-Resource-Policy', 'same-site');
  if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}
