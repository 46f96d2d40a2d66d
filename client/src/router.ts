import type { AppRouter } from '@iam/server';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/**
 * The service's router type, the one place the client names the server: every call, input and
 * output is typed from it. Only types cross (`import type`): no server code reaches a bundle.
 */
export type { AppRouter };
/** The input of every procedure, by router and name: `RouterInputs['auth']['login']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** The output of every procedure, by router and name: `RouterOutputs['session']['list']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
