import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Services } from '../modules/auth/services';
import { randomToken } from '../modules/crypto/random';
import type { ClientInfo } from '../modules/devices/clientInfo';
import { hashRefreshToken } from '../modules/sessions/refreshTokens';
import type { TraceFields } from '../modules/telemetry/tracing';
import { bearerTokenOf } from '../modules/tokens/authenticate';
import { type CookieJar, createCookieJar } from './cookies';
import { createServiceVerifier, isSignedRequest, type ServiceIdentity, signedRequestOf } from './hmac';

export interface Context {
  services: Services;
  client: ClientInfo;
  requestId: string;
  logger: Logger;
  /** The bearer token of `Authorization`, if any. */
  bearerToken: string | null;
  cookies: CookieJar;
  /**
   * The calling service, for `bff.*`. Only a trusted in-process caller passes it in; over HTTP
   * it is null, and `hmacProcedure` sets it from a verified signature.
   */
  service?: ServiceIdentity | null;
  /** HTTP only: verifies the request's HMAC signature (once per request, shared by a batch). */
  verifyService?: () => Promise<ServiceIdentity>;
  /** HTTP only: told each traced call's span ids, so the request's access log line names its trace. */
  onTraced?: (fields: TraceFields) => void;
}

/** Canaries are 256-bit base64url values; anything else is replaced. */
const canaryPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * The inner context, without HTTP: what tests and in-process callers build directly.
 */
export function createInnerContext(opts: {
  services: Services;
  client?: Partial<ClientInfo>;
  bearerToken?: string | null;
  cookies?: CookieJar;
  requestId?: string;
  service?: ServiceIdentity | null;
  verifyService?: () => Promise<ServiceIdentity>;
  onTraced?: (fields: TraceFields) => void;
}): Context {
  const requestId = opts.requestId ?? randomUUID();
  return {
    services: opts.services,
    client: {
      ip: opts.client?.ip ?? null,
      userAgent: opts.client?.userAgent ?? null,
      canary: opts.client?.canary ?? null,
      canaryIsNew: opts.client?.canaryIsNew ?? false,
      ...(opts.client?.refreshTokenHash ? { refreshTokenHash: opts.client.refreshTokenHash } : {}),
    },
    requestId,
    logger: opts.services.logger.child({ requestId }),
    bearerToken: opts.bearerToken ?? null,
    cookies: opts.cookies ?? createCookieJar(undefined, undefined, opts.services.settings.secureCookies),
    service: opts.service ?? null,
    ...(opts.verifyService ? { verifyService: opts.verifyService } : {}),
    ...(opts.onTraced ? { onTraced: opts.onTraced } : {}),
  };
}

/** The HTTP context: client address, user agent, bearer token, cookies, request id. */
export function createHttpContextFactory(services: Services) {
  return ({ req, res, info }: { req: Request; res: Response; info?: { calls: ReadonlyArray<{ path: string }> } }): Context => {
    const cookies = createCookieJar(req, res, services.settings.secureCookies);
    const signed = isSignedRequest(req);
    let canary = cookies.get('canary');
    const canaryIsNew = !canary || !canaryPattern.test(canary);
    if (canaryIsNew) {
      canary = null;
      // First contact: name this device (docs/api.md, `iam_cid`). A signed request comes from a
      // service, not a browser: it gets no canary.
      if (!signed) {
        canary = randomToken(32);
        cookies.setCanary(canary);
      }
    }
    const requestId = String(res.locals.requestId ?? randomUUID());
    const ip = clientIp(req);
    const procedures = info?.calls.map((call) => call.path) ?? [];
    // The session this browser holds, if any: a sign-in here replaces it (sessions.create).
    const refreshToken = cookies.get('refreshToken');
    return createInnerContext({
      services,
      client: {
        ip,
        userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
        canary,
        canaryIsNew,
        ...(refreshToken ? { refreshTokenHash: hashRefreshToken(refreshToken) } : {}),
      },
      bearerToken: bearerTokenOf(req.headers.authorization),
      cookies,
      requestId,
      verifyService: createServiceVerifier(services, signedRequestOf(req, res, procedures), { ip, requestId }),
      // The first call's trace, for the access line (http/app.ts); a batch's other calls have their own.
      onTraced: (fields) => {
        res.locals.trace ??= fields;
      },
    });
  };
}

/** `req.ip` honours `X-Forwarded-For` only when `trust proxy` is configured (TRUST_PROXY). */
export function clientIp(req: Request): string | null {
  const ip = req.ip ?? req.socket.remoteAddress ?? null;
  if (!ip) return null;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
