import type { TRPCRouterRecord } from '@trpc/server';
import { list } from './list';
import { refresh } from './refresh';
import { revoke } from './revoke';
import { revokeAll } from './revokeAll';

export const sessionRouter = { refresh, list, revoke, revokeAll } satisfies TRPCRouterRecord;
