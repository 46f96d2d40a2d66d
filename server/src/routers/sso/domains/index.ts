import type { TRPCRouterRecord } from '@trpc/server';
import { add } from './add';
import { list } from './list';
import { remove } from './remove';
import { verify } from './verify';

export const domainsRouter = {
  add,
  verify,
  list,
  remove,
} satisfies TRPCRouterRecord;
