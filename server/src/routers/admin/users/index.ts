import type { TRPCRouterRecord } from '@trpc/server';
import { deleteUserProcedure } from './delete';
import { disable } from './disable';
import { enable } from './enable';
import { get } from './get';
import { list } from './list';
import { resetMfa } from './resetMfa';
import { revokeSessions } from './revokeSessions';
import { setRoles } from './setRoles';

export const adminUsersRouter = {
  list,
  get,
  disable,
  enable,
  revokeSessions,
  resetMfa,
  setRoles,
  delete: deleteUserProcedure,
} satisfies TRPCRouterRecord;
