import type { TRPCRouterRecord } from '@trpc/server';
import { authorize } from './authorize';
import { introspect } from './introspect';
import { login } from './login';
import { logout } from './logout';
import { refresh } from './refresh';
import { signup } from './signup';
import { verifyApiKey } from './verifyApiKey';
import { verifyChallenge } from './verifyChallenge';
import { verifyEmail } from './verifyEmail';

/** Service-to-service procedures: HMAC-signed requests (or a trusted in-process caller) only. */
export const bffRouter = {
  introspect,
  authorize,
  refresh,
  logout,
  verifyApiKey,
  login,
  signup,
  verifyEmail,
  verifyChallenge,
} satisfies TRPCRouterRecord;
