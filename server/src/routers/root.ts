import { router } from '../trpc/init';
import { authRouter } from './auth';
import { sessionRouter } from './session';

export const appRouter = router({
  auth: authRouter,
  session: sessionRouter,
});

export type AppRouter = typeof appRouter;
