import type { TRPCRouterRecord } from '@trpc/server';
import { list } from './list';
import { notMe } from './notMe';
import { refresh } from './refresh';
import { revoke } from './revoke';
import { revokeAll } from './revokeAll';

export const sessionRouter = { refresh, list, revoke, revokeAll, notMe } satisfies TRPCRouterRecord;
