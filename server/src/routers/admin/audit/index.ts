import type { TRPCRouterRecord } from '@trpc/server';
import { query } from './query';
import { stats } from './stats';

export const adminAuditRouter = { query, stats } satisfies TRPCRouterRecord;
