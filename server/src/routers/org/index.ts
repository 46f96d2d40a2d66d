import type { TRPCRouterRecord } from '@trpc/server';
import { acceptInvitation } from './acceptInvitation';
import { audit } from './audit';
import { create } from './create';
import { get } from './get';
import { invitationsRouter } from './invitations';
import { invite } from './invite';
import { leave } from './leave';
import { list } from './list';
import { removeMember } from './removeMember';
import { revokeSessions } from './revokeSessions';
import { setRole } from './setRole';
import { switchProcedure } from './switch';
import { transferOwnership } from './transferOwnership';
import { update } from './update';

/** Organizations: users grouped with a role each (`owner`, `admin`, `member`); docs/api.md, org. */
export const orgRouter = {
  create,
  list,
  get,
  update,
  invite,
  invitations: invitationsRouter,
  acceptInvitation,
  setRole,
  removeMember,
  leave,
  transferOwnership,
  switch: switchProcedure,
  revokeSessions,
  audit,
} satisfies TRPCRouterRecord;
