import type { TRPCRouterRecord } from '@trpc/server';
import { ping } from './ping';

export const systemRouter = { ping } satisfies TRPCRouterRecord;
