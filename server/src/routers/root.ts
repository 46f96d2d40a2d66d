import { router } from '../trpc/init';
import { authRouter } from './auth';
import { bffRouter } from './bff';
import { mfaRouter } from './mfa';
import { sessionRouter } from './session';

export const appRouter = router({
  auth: authRouter,
  session: sessionRouter,
  mfa: mfaRouter,
  bff: bffRouter,
});

export type AppRouter = typeof appRouter;
