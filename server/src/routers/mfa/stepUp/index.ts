import type { TRPCRouterRecord } from '@trpc/server';
import { begin } from './begin';
import { verify } from './verify';

export const stepUpRouter = { begin, verify } satisfies TRPCRouterRecord;
