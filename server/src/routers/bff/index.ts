import type { TRPCRouterRecord } from '@trpc/server';
import { authorize } from './authorize';
import { introspect } from './introspect';
import { logout } from './logout';
import { refresh } from './refresh';
import { verifyApiKey } from './verifyApiKey';

/** Service-to-service procedures: HMAC-signed requests (or a trusted in-process caller) only. */
export const bffRouter = { introspect, authorize, refresh, logout, verifyApiKey } satisfies TRPCRouterRecord;
