import { router } from '../trpc/init';
import { authRouter } from './auth';
import { mfaRouter } from './mfa';
import { sessionRouter } from './session';

export const appRouter = router({
  auth: authRouter,
  session: sessionRouter,
  mfa: mfaRouter,
});

export type AppRouter = typeof appRouter;
