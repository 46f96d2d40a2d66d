import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import type { Context } from './context';
import { formatError } from './errors';

/** The one tRPC instance. Only the builders leave this file, never the instance. */
const t = initTRPC.context<Context>().create({
  transformer: superjson,
  isDev: false,
  errorFormatter: ({ shape, error }) => formatError(shape, error),
});

export const router = t.router;
export const middleware = t.middleware;
export const baseProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
