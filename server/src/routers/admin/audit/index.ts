import type { TRPCRouterRecord } from '@trpc/server';
import { query } from './query';

export const adminAuditRouter = { query } satisfies TRPCRouterRecord;
