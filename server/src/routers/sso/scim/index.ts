import type { TRPCRouterRecord } from '@trpc/server';
import { createToken } from './createToken';
import { groupRoles } from './groupRoles';
import { listTokens } from './listTokens';
import { mapGroup } from './mapGroup';
import { revokeToken } from './revokeToken';

export const scimRouter = {
  createToken,
  listTokens,
  revokeToken,
  mapGroup,
  groupRoles,
} satisfies TRPCRouterRecord;
