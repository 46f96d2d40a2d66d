import type { TRPCRouterRecord } from '@trpc/server';
import { create } from './create';
import { deleteProcedure } from './delete';
import { list } from './list';
import { update } from './update';

export const connectionsRouter = {
  create,
  list,
  update,
  delete: deleteProcedure,
} satisfies TRPCRouterRecord;
