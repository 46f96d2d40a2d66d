import { initTRPC } from '@trpc/server';
import type { Context } from './context';
import { formatError } from './errors';
import { transformer } from './transformer';

/** The one tRPC instance. Only the builders leave this file, never the instance. */
const t = initTRPC.context<Context>().create({
  // superjson's wire format; answers serialized in one pass (transformer.ts).
  transformer,
  isDev: false,
  errorFormatter: ({ shape, error }) => formatError(shape, error),
});

export const router = t.router;
export const middleware = t.middleware;
export const baseProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
