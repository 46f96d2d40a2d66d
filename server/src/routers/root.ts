import { router } from '../trpc/init';
import { adminRouter } from './admin';
import { authRouter } from './auth';
import { bffRouter } from './bff';
import { mfaRouter } from './mfa';
import { oauthRouter } from './oauth';
import { passkeyRouter } from './passkey';
import { sessionRouter } from './session';
import { systemRouter } from './system';

export const appRouter = router({
  auth: authRouter,
  session: sessionRouter,
  mfa: mfaRouter,
  oauth: oauthRouter,
  passkey: passkeyRouter,
  admin: adminRouter,
  bff: bffRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
