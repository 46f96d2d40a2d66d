import type { TRPCRouterRecord } from '@trpc/server';
import { begin } from './begin';
import { confirm } from './confirm';
import { disable } from './disable';

export const totpRouter = { begin, confirm, disable } satisfies TRPCRouterRecord;
