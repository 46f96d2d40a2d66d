import type { IncomingMessage, ServerResponse } from 'node:http';
import { maxCallsPerBatch, maxRequestBodyInBytes } from '@iam/shared';
import { getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { resolveResponse } from '@trpc/server/http';
import type { Request as ExpressRequest, Response as ExpressResponse, RequestHandler } from 'express';
import type { Services } from '../modules/auth/services';
import { appRouter } from '../routers/root';
import { createHttpContextFactory } from '../trpc/context';
import { retryAfterOf, wasLogged } from '../trpc/errors';
import { sendJsonError } from './errorEnvelope';
import { plainJsonCalls, resolveJsonCalls } from './trpcJsonCalls';

/**
 * `/trpc`. A plain JSON call or batch (a query over GET, a mutation over POST, on procedures
 * that exist for that method: nearly every request) runs through `resolveJsonCalls`, which
 * calls the procedures and answers exactly as tRPC's resolver would, from tRPC's own helpers
 * (error shape, status rule, transformer) but without a web Request, Response, streams and
 * abort signals around each call: measured, half the CPU of a no-op call. Everything else
 * (streamed batches, HEAD, unknown procedures, wrong methods, other content types) goes to
 * tRPC's `resolveResponse`, as does a request that names `trpc-accept`. Around both, the Node
 * plumbing is what a JSON API needs: the body is read into one string (≤ 100 kB), and a JSON
 * answer is written with one `end()`. The wire format, batching, errors and status codes are
 * tRPC's (test/src/transport/jsonCalls.test.ts compares both paths answer for answer).
 */
export function createTrpcHandler(services: Services): RequestHandler {
  const createContext = createHttpContextFactory(services);
  const onError = ({ error, path }: { error: TRPCError; path: string | undefined }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR' && !wasLogged(error.cause ?? error))
      services.logger.error({ err: error.cause ?? error, path }, 'request failed');
  };
  const headersFor = (errors: readonly TRPCError[]): Record<string, string> => {
    const retryAfter = retryAfterOf(errors);
    return retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
  };
  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // resolveResponse answers every procedure's error itself; this is a failure around it.
      services.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJsonError(res, 'INTERNAL', { status: 500 });
      else res.end();
    });
  };

  async function handle(req: ExpressRequest, res: ExpressResponse): Promise<void> {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await bodyOf(req);
    // Plain JSON calls (nearly every request) are answered without web streams around them.
    const plain = typeof body === 'object' ? null : plainJsonCalls(appRouter, req, body, maxCallsPerBatch);
    if (plain) {
      const answer = await resolveJsonCalls(appRouter, plain, {
        createContext: (info) => createContext({ req, res, info }),
        onError,
        headersFor,
      });
      if (res.statusCode === 200) res.statusCode = answer.status;
      for (const [key, value] of Object.entries(answer.headers)) res.setHeader(key, value);
      res.end(answer.body);
      return;
    }
    const request = new Request(urlOf(req), {
      method: req.method,
      headers: headersOf(req.headers),
      ...(body === undefined ? {} : { body, duplex: 'half' }),
    } as RequestInit);
    const response = await resolveResponse({
      router: appRouter,
      req: request,
      // The procedure path: what follows `/trpc/` (express strips the mount point).
      path: req.path.slice(req.path.lastIndexOf('/') + 1),
      error: null,
      maxBatchSize: maxCallsPerBatch,
      createContext: ({ info }) => Promise.resolve(createContext({ req, res, info })),
      onError,
      responseMeta: ({ errors }) => ({ headers: headersFor(errors) }),
    });
    await writeResponse(response, res);
  }
}

/**
 * The request body as tRPC reads it: a string. A body a signed-request reader (`captureSignedBody`)
 * already decoded is used as it is; a larger one than the cap is refused as tRPC refuses it
 * (413, PAYLOAD_TOO_LARGE), through a body stream that fails.
 */
async function bodyOf(req: ExpressRequest): Promise<string | ReadableStream<Uint8Array>> {
  const parsed: unknown = req.body;
  // A host app's body parser got here first: tRPC takes what it parsed.
  if (parsed !== undefined) return typeof parsed === 'string' ? parsed : JSON.stringify(parsed);
  if (req.readableEnded) return failingBody(new TRPCError({ code: 'BAD_REQUEST', message: 'The request body was already read.' }));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxRequestBodyInBytes) {
        chunks.push(chunk);
        return;
      }
      // Refused as tRPC refuses it; the rest of the body is left unread, the connection kept.
      done();
      resolve(failingBody(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' })));
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** A body whose read fails with `error`, which tRPC answers in its own error format. */
function failingBody(error: TRPCError): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.error(error);
    },
  });
}

function urlOf(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  } catch (cause) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid URL', cause });
  }
}

function headersOf(incoming: IncomingMessage['headers']): Headers {
  const headers = new Headers();
  for (const key in incoming) {
    const value = incoming[key];
    if (Array.isArray(value)) for (const item of value) headers.append(key, item);
    else if (value !== undefined) headers.append(key, value);
  }
  return headers;
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  // A status a middleware chose before tRPC answered stands (as in tRPC's own adapters).
  if (res.statusCode === 200) res.statusCode = response.status;
  for (const [key, value] of response.headers) {
    if (key !== 'set-cookie') res.setHeader(key, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.appendHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  if (!(response.headers.get('content-type') ?? '').includes('jsonl')) {
    res.end(await response.text());
    return;
  }
  // A streamed batch: each part as it is ready.
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
  } catch (error) {
    throw getTRPCErrorFromUnknown(error);
  } finally {
    res.end();
  }
}
