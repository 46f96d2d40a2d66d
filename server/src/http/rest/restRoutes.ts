import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import express, { type RequestHandler, type Response } from 'express';
import type { Services } from '../../modules/auth/services';
import { appRouter } from '../../routers/root';
import { createHttpContextFactory } from '../../trpc/context';
import { formatError, retryAfterOf, wasLogged } from '../../trpc/errors';
import { createCallerFactory } from '../../trpc/init';
import { type ErrorEnvelopeDetails, sendJsonError } from '../errorEnvelope';
import { sendDocsPage } from './docsPage';
import { createOpenApiDocument, type ProcedureShape, procedureShapeOf } from './openApiDocument';
import { readRestInput } from './restInput';
import { restOperations, restPathOf } from './restOperations';

type Procedure = (input: unknown) => Promise<unknown>;

/**
 * `GET /openapi.json`, `GET /docs` and `/api/v1/<router>/<procedure>`. Each operation calls
 * its tRPC procedure through the server-side caller with the same HTTP context as `/trpc`, so
 * its guards, limits, bot check, cookies and audit are the procedure's own; only the framing
 * differs (plain JSON in and out, errors as the JSON error envelope).
 */
export function createRestRoutes(services: Services, options: { originPolicy: RequestHandler }): express.Router {
  const router = express.Router();
  const document = createOpenApiDocument({ publicUrl: services.settings.publicUrl, productName: services.settings.productName });
  const operations = new Map<string, { procedure: string; shape: ProcedureShape }>(
    restOperations.map((operation) => [
      restPathOf(operation.procedure).slice('/api/v1'.length),
      { procedure: operation.procedure, shape: procedureShapeOf(operation.procedure) },
    ]),
  );
  const createContext = createHttpContextFactory(services);
  const createCaller = createCallerFactory(appRouter);

  router.get('/openapi.json', (_req, res) => {
    // A public description: any tool on any origin may read it (it carries no credentials).
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'no-cache');
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    sendDocsPage(res, document);
  });

  router.use('/api/v1', options.originPolicy, async (req, res) => {
    const entry = operations.get(req.path);
    if (!entry) {
      sendJsonError(res, 'NOT_FOUND');
      return;
    }
    const method = entry.shape.type === 'query' ? 'GET' : 'POST';
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      // RFC 9110 §15.5.6: a 405 names the methods the resource takes.
      res.setHeader('Allow', method);
      sendJsonError(res, 'INVALID_INPUT', { status: 405, code: 'METHOD_NOT_SUPPORTED', message: `Use ${method}.` });
      return;
    }
    const read = await readRestInput(req, res, entry.shape.type);
    if (!read.ok) {
      sendJsonError(res, 'INVALID_INPUT', { status: read.status, code: read.code, message: read.message });
      return;
    }
    try {
      const output = await procedureAt(createCaller(createContext({ req, res })), entry.procedure)(read.input);
      res.status(200).json(output ?? null);
    } catch (error) {
      sendProcedureError(services, res, entry.procedure, error);
    }
  });

  return router;
}

/** The caller's function at a dotted path (`mfa.totp.begin`): the caller is a proxy of the router's shape. */
function procedureAt(caller: unknown, path: string): Procedure {
  let node = caller;
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
  return node as Procedure;
}

/**
 * A refusal as `/trpc` answers it: the same status (tRPC's own), the catalog code, message,
 * issues, bot-check challenge and `Retry-After`; an unexpected error is logged once and
 * answered as a bare `INTERNAL` (OWASP ASVS 4.0 V7.4.1).
 */
function sendProcedureError(services: Services, res: Response, path: string, caught: unknown): void {
  const error = caught instanceof TRPCError ? caught : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: caught });
  if (error.code === 'INTERNAL_SERVER_ERROR' && !wasLogged(error.cause ?? error)) {
    services.logger.error({ err: error.cause ?? error, path, requestId: res.locals.requestId }, 'request failed');
  }
  const status = getHTTPStatusCodeFromError(error);
  const formatted = formatError({ message: error.message, code: 0, data: { code: error.code, httpStatus: status } }, error);
  const retryAfter = retryAfterOf([error]);
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  const { retryAfterSeconds, issues, botCheck } = formatted.data;
  const details: ErrorEnvelopeDetails = {
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    ...(issues ? { issues } : {}),
    ...(botCheck ? { botCheck } : {}),
  };
  if (res.headersSent) return;
  sendJsonError(res, formatted.data.iamCode, { status, code: error.code, message: formatted.message, details });
}
