import type { AnyProcedure, AnyRouter } from '@trpc/server';
import { TRPCError } from '@trpc/server';
// tRPC's helpers for adapters: the error shape, the status rule and the transformer step.
import { getErrorShape, getHTTPStatusCode, getTRPCErrorFromUnknown, transformTRPCResponse } from '@trpc/server/unstable-core-do-not-import';
import type { Request as ExpressRequest } from 'express';

/**
 * The calls of a `/trpc` request that is plain JSON: a query over GET or a mutation over POST
 * (`application/json`), alone or in a batch (`?batch=1`), on procedures that exist and answer
 * that method. Every other request (HEAD, a streamed batch, a subscription, form data, a method
 * or a procedure tRPC refuses, a percent-encoded path, `connectionParams`) goes to tRPC's own
 * resolver, which also gives every refusal of those its exact wording.
 */
export interface JsonCalls {
  isBatch: boolean;
  type: 'query' | 'mutation';
  calls: Array<{ path: string; procedure: AnyProcedure; batchIndex: number }>;
  /** The raw inputs: `?input=` of a GET, the body of a POST. */
  rawInputs: string | null;
}

const plainPaths = /^[A-Za-z0-9_.,]{1,2000}$/;

/** The calls of `req` when it is a plain JSON call or batch; `null` when tRPC's resolver must answer it. */
export function plainJsonCalls(router: AnyRouter, req: ExpressRequest, body: string | undefined, maxBatchSize: number): JsonCalls | null {
  const method = req.method;
  if (method !== 'GET' && method !== 'POST') return null;
  const headers = req.headers;
  // A streamed answer (`trpc-accept: application/jsonl`, or asked for in `accept`).
  if (headers['trpc-accept'] !== undefined || headers.accept?.includes('jsonl')) return null;
  const contentType = headers['content-type'];
  if (contentType === undefined ? method === 'POST' : contentType.toLowerCase().split(';', 1)[0]?.trim() !== 'application/json')
    return null;
  if (method === 'POST' && body === undefined) return null;

  const url = req.url;
  const queryAt = url.indexOf('?');
  const pathPart = url.slice(url.lastIndexOf('/', queryAt === -1 ? url.length : queryAt) + 1, queryAt === -1 ? url.length : queryAt);
  if (!plainPaths.test(pathPart)) return null;
  const search = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  if (search.has('connectionParams') || search.has('lastEventId') || search.has('Last-Event-Id')) return null;
  const isBatch = search.get('batch') === '1';
  const paths = isBatch ? pathPart.split(',') : [pathPart];
  if (paths.length > maxBatchSize || (!isBatch && pathPart.includes(','))) return null;

  const type = method === 'GET' ? 'query' : 'mutation';
  const procedures = router._def.procedures as Record<string, AnyProcedure | undefined>;
  const calls: JsonCalls['calls'] = [];
  for (const [batchIndex, path] of paths.entries()) {
    const procedure = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
    if (!procedure || procedure._def.type !== type) return null;
    calls.push({ path, procedure, batchIndex });
  }
  // The body as tRPC reads it (the web Request's text()): a leading byte-order mark dropped.
  return { isBatch, type, calls, rawInputs: method === 'GET' ? search.get('input') : (body ?? '').replace(/^\uFEFF/, '') };
}

/** What a procedure's error hook and response headers are told, as tRPC's resolver tells them. */
export interface JsonCallHooks<Ctx> {
  createContext(info: { calls: ReadonlyArray<{ path: string }>; isBatchCall: boolean; type: string }): Ctx;
  onError(opts: { error: TRPCError; path: string }): void;
  headersFor(errors: readonly TRPCError[]): Record<string, string>;
}

/**
 * Runs the calls and answers them exactly as tRPC's `resolveResponse` answers a JSON request:
 * the inputs parsed once for all calls (a parse failure is each call's BAD_REQUEST), each call
 * through the procedure's own middlewares and input parser, errors shaped by the router's
 * error formatter, `{ result: { data } }` or `{ error }` per call through the transformer, the
 * HTTP status from tRPC's rule (one status, or 207 for a mixed batch), `vary` and
 * `content-type` as tRPC sets them. What it saves is the web `Request`, `Response`, streams and
 * abort signals around each call.
 */
export async function resolveJsonCalls<Ctx>(
  router: AnyRouter,
  plan: JsonCalls,
  hooks: JsonCallHooks<Ctx>,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const config = router._def._config;
  const inputs = memoInputs(() => {
    if (!plan.rawInputs) return {};
    const parsed: unknown = JSON.parse(plan.rawInputs);
    if (!plan.isBatch) return { 0: config.transformer.input.deserialize(parsed) };
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: '"input" needs to be an object when doing a batch call' });
    }
    const byIndex: Record<number, unknown> = {};
    for (const index of plan.calls.keys()) {
      const input = (parsed as Record<string, unknown>)[index];
      if (input !== undefined) byIndex[index] = config.transformer.input.deserialize(input);
    }
    return byIndex;
  });

  let ctx: Ctx | undefined;
  let contextError: TRPCError | undefined;
  try {
    ctx = hooks.createContext({ calls: plan.calls, isBatchCall: plan.isBatch, type: plan.type });
  } catch (cause) {
    contextError = getTRPCErrorFromUnknown(cause);
  }

  const outcomes = await Promise.all(
    plan.calls.map(async (call): Promise<[TRPCError, undefined] | [undefined, { data: unknown }]> => {
      try {
        if (contextError) throw contextError;
        const data: unknown = await call.procedure({
          path: call.path,
          getRawInput: async () => (await inputs.read())[call.batchIndex],
          ctx,
          type: plan.type,
          signal: undefined,
          batchIndex: call.batchIndex,
        });
        return [undefined, { data }];
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        hooks.onError({ error, path: call.path });
        return [error, undefined];
      }
    }),
  );

  const errors: TRPCError[] = [];
  const items = outcomes.map(([error, result], index) => {
    const call = plan.calls[index] as JsonCalls['calls'][number];
    if (!error) return { result: { data: result.data } };
    errors.push(error);
    return {
      error: getErrorShape({ config, ctx, error, input: inputs.result()?.[call.batchIndex], path: call.path, type: plan.type }),
    };
  });
  const untransformed = plan.isBatch ? items : (items[0] as (typeof items)[number]);
  return {
    status: getHTTPStatusCode(
      items,
      outcomes.map(([error]) => error as TRPCError),
    ),
    headers: { vary: 'trpc-accept, accept', 'content-type': 'application/json', ...hooks.headersFor(errors) },
    body: JSON.stringify(transformTRPCResponse(config, untransformed as never)),
  };
}

/** The inputs, parsed on the first read and kept; a failure is a BAD_REQUEST as in tRPC. */
function memoInputs(parse: () => Record<number, unknown>) {
  let value: Record<number, unknown> | undefined;
  let failure: TRPCError | undefined;
  return {
    read: async (): Promise<Record<number, unknown>> => {
      if (value) return value;
      if (failure) throw failure;
      try {
        value = parse();
        return value;
      } catch (cause) {
        failure =
          cause instanceof TRPCError
            ? cause
            : new TRPCError({ code: 'BAD_REQUEST', message: cause instanceof Error ? cause.message : 'Invalid input', cause });
        throw failure;
      }
    },
    result: (): Record<number, unknown> | undefined => value,
  };
}
