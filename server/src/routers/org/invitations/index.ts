import type { TRPCRouterRecord } from '@trpc/server';
import { list } from './list';
import { revoke } from './revoke';

export const invitationsRouter = { list, revoke } satisfies TRPCRouterRecord;
