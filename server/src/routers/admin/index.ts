import type { TRPCRouterRecord } from '@trpc/server';
import { adminAuditRouter } from './audit';
import { adminUsersRouter } from './users';

/** docs/api.md, admin: role `admin`; destructive calls take a step-up token for the action `admin`. */
export const adminRouter = { users: adminUsersRouter, audit: adminAuditRouter } satisfies TRPCRouterRecord;
