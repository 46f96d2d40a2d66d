import { router } from '../trpc/init';
import { adminRouter } from './admin';
import { apiKeysRouter } from './apiKeys';
import { authRouter } from './auth';
import { bffRouter } from './bff';
import { mfaRouter } from './mfa';
import { oauthRouter } from './oauth';
import { orgRouter } from './org';
import { passkeyRouter } from './passkey';
import { sessionRouter } from './session';
import { ssoRouter } from './sso';
import { systemRouter } from './system';

export const appRouter = router({
  auth: authRouter,
  session: sessionRouter,
  mfa: mfaRouter,
  oauth: oauthRouter,
  passkey: passkeyRouter,
  admin: adminRouter,
  apiKeys: apiKeysRouter,
  org: orgRouter,
  sso: ssoRouter,
  bff: bffRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
