import { httpStatusOf, maxRequestBodyInBytes } from '@iam/shared';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Services } from '../modules/auth/services';
import { IamError } from '../modules/errors/iamError';
import { assertIpNotBlocked, consumeLimits } from '../modules/rateLimit/guards';
import type { ScimDeps, ScimRequest } from '../modules/scim/context';
import { createScimGroup, deleteScimGroup, getScimGroup, listScimGroups, patchScimGroup, replaceScimGroup } from '../modules/scim/groups';
import { listResponse, resourceTypes, schemas, serviceProviderConfig } from '../modules/scim/protocol';
import { ScimError, type ScimErrorType, scimErrorBody } from '../modules/scim/scimError';
import { authenticateScimToken } from '../modules/scim/tokens';
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, patchScimUser, replaceScimUser } from '../modules/scim/users';
import { clientIp } from '../trpc/context';

/**
 * SCIM 2.0 at `${PUBLIC_URL}/scim/v2` (RFC 7644; docs/api.md, SCIM): an organization's identity
 * provider provisions its members with a bearer token of the organization. Bodies in and out are
 * `application/scim+json` (RFC 7644 §3.1; `application/json` is accepted too), at most 100 kB;
 * every refusal is a SCIM error (§3.12), and nothing unexpected is ever described to the caller
 * (OWASP ASVS 4.0 V7.4.1). Each request counts against `scimPerIp` before its token is read and
 * against `scimPerToken` after (ASVS V2.2.1, anti-automation; V11.1.4, per-client limits).
 */
const scimContentType = 'application/scim+json; charset=utf-8';
const bearerPattern = /^Bearer\s+(\S{1,200})\s*$/i;

type Handler = (req: Request, res: Response, request: ScimRequest) => Promise<void>;

function send(res: Response, status: number, body: unknown): void {
  res.status(status).setHeader('Content-Type', scimContentType);
  res.send(JSON.stringify(body));
}

function sendError(res: Response, status: number, detail: string, scimType?: ScimErrorType): void {
  if (res.headersSent) return;
  send(res, status, scimErrorBody(status, detail, scimType));
}

export function createScimRoutes(services: Services): express.Router {
  const router = express.Router();
  const baseUrl = `${services.settings.publicUrl.replace(/\/+$/, '')}/scim/v2`;
  const deps: ScimDeps = services;
  const readJson = express.json({ type: ['application/scim+json', 'application/json'], limit: maxRequestBodyInBytes });

  /** Rate limits, the bearer token and the body; then the handler; every refusal as a SCIM error. */
  const route =
    (handler: Handler) =>
    async (req: Request, res: Response): Promise<void> => {
      res.setHeader('Cache-Control', 'no-store');
      const client = { ip: clientIp(req), userAgent: req.headers['user-agent']?.slice(0, 512) ?? null, canary: null };
      try {
        await assertIpNotBlocked(services.limits, client.ip);
        await consumeLimits(services.limits, [['scimPerIp', client.ip]]);
        const presented = bearerPattern.exec(req.headers.authorization ?? '')?.[1];
        const caller = presented ? await authenticateScimToken(services, presented) : null;
        if (!caller) {
          // RFC 6750 §3: a missing token gets the challenge alone, a wrong one `invalid_token` too.
          res.setHeader('WWW-Authenticate', presented ? 'Bearer realm="scim", error="invalid_token"' : 'Bearer realm="scim"');
          sendError(res, 401, 'A valid SCIM bearer token of the organization is required.');
          return;
        }
        await consumeLimits(services.limits, [['scimPerToken', caller.tokenId]]);
        if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
          if (!req.is(['application/scim+json', 'application/json'])) {
            sendError(res, 400, 'Send the body as application/scim+json.', 'invalidSyntax');
            return;
          }
          await new Promise<void>((resolve, reject) => readJson(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
        }
        await handler(req, res, { caller, client, baseUrl });
      } catch (error) {
        handleError(services, req, res, error);
      }
    };

  router.get(
    '/ServiceProviderConfig',
    route(async (_req, res) => send(res, 200, serviceProviderConfig(baseUrl))),
  );
  router.get(
    '/ResourceTypes',
    route(async (_req, res) => {
      const types = resourceTypes(baseUrl);
      send(res, 200, listResponse(types, types.length, 1));
    }),
  );
  router.get(
    '/ResourceTypes/:id',
    route(async (req, res) => {
      const type = resourceTypes(baseUrl).find((candidate) => candidate.id === req.params.id);
      if (type) send(res, 200, type);
      else sendError(res, 404, 'Resource type not found.');
    }),
  );
  router.get(
    '/Schemas',
    route(async (_req, res) => {
      const list = schemas(baseUrl);
      send(res, 200, listResponse(list, list.length, 1));
    }),
  );
  router.get(
    '/Schemas/:id',
    route(async (req, res) => {
      const schema = schemas(baseUrl).find((candidate) => candidate.id === req.params.id);
      if (schema) send(res, 200, schema);
      else sendError(res, 404, 'Schema not found.');
    }),
  );

  const id = (req: Request): string => String(req.params.id ?? '');
  const withMembers = (req: Request): boolean =>
    !(typeof req.query.excludedAttributes === 'string' && /(^|,)\s*members\s*(,|$)/i.test(req.query.excludedAttributes));

  router.get(
    '/Users',
    route(async (req, res, request) => send(res, 200, await listScimUsers(deps, request, req.query))),
  );
  router.post(
    '/Users',
    route(async (req, res, request) => {
      const resource = await createScimUser(deps, request, req.body);
      res.setHeader('Location', resource.meta.location);
      send(res, 201, resource);
    }),
  );
  router.get(
    '/Users/:id',
    route(async (req, res, request) => send(res, 200, await getScimUser(deps, request, id(req)))),
  );
  router.put(
    '/Users/:id',
    route(async (req, res, request) => send(res, 200, await replaceScimUser(deps, request, id(req), req.body))),
  );
  router.patch(
    '/Users/:id',
    route(async (req, res, request) => send(res, 200, await patchScimUser(deps, request, id(req), req.body))),
  );
  router.delete(
    '/Users/:id',
    route(async (req, res, request) => {
      await deleteScimUser(deps, request, id(req));
      res.status(204).end();
    }),
  );

  router.get(
    '/Groups',
    route(async (req, res, request) => send(res, 200, await listScimGroups(deps, request, req.query, { withMembers: withMembers(req) }))),
  );
  router.post(
    '/Groups',
    route(async (req, res, request) => {
      const resource = await createScimGroup(deps, request, req.body);
      res.setHeader('Location', resource.meta.location);
      send(res, 201, resource);
    }),
  );
  router.get(
    '/Groups/:id',
    route(async (req, res, request) => send(res, 200, await getScimGroup(deps, request, id(req), { withMembers: withMembers(req) }))),
  );
  router.put(
    '/Groups/:id',
    route(async (req, res, request) => send(res, 200, await replaceScimGroup(deps, request, id(req), req.body))),
  );
  router.patch(
    '/Groups/:id',
    route(async (req, res, request) => send(res, 200, await patchScimGroup(deps, request, id(req), req.body))),
  );
  router.delete(
    '/Groups/:id',
    route(async (req, res, request) => {
      await deleteScimGroup(deps, request, id(req));
      res.status(204).end();
    }),
  );

  // Anything else under /scim/v2 (Bulk, /Me, another method): a SCIM error, never the service's own envelope.
  router.use(
    route(async (req, res) => {
      const known = /^\/(Users|Groups|ServiceProviderConfig|ResourceTypes|Schemas)(\/|$)/.test(req.path);
      if (known) {
        sendError(res, 405, 'This method is not supported on this endpoint.');
        return;
      }
      sendError(res, 404, 'Not found.');
    }),
  );
  return router;
}

function handleError(services: Services, req: Request, res: Response, error: unknown): void {
  if (error instanceof ScimError) {
    if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="scim", error="invalid_token"');
    sendError(res, error.status, error.message, error.scimType);
    return;
  }
  if (error instanceof IamError && error.code !== 'INTERNAL' && error.code !== 'SERVICE_UNAVAILABLE') {
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    const status = httpStatusOf(error.code);
    if (status < 500) {
      sendError(res, status, error.message);
      return;
    }
  }
  // Body parser refusals (express.json): too large, not JSON, an unknown charset.
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  if (type === 'entity.too.large') {
    sendError(res, 413, `The body is larger than ${maxRequestBodyInBytes} bytes.`);
    return;
  }
  if (typeof type === 'string' && type !== 'stream.not.readable') {
    sendError(res, 400, 'The body is not valid JSON.', 'invalidSyntax');
    return;
  }
  services.logger.error({ err: error, path: req.path, method: req.method, requestId: res.locals.requestId }, 'SCIM request failed');
  sendError(res, 500, 'The request could not be completed.');
}

/** Express's last-resort handler for the mount (a throw outside `route`): the same SCIM error. */
export function scimFallback(services: Services) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => handleError(services, req, res, error);
}
