import { orgIdInput } from '@iam/shared';
import { listScimGroupRoles } from '../../../modules/scim/roles';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf } from '../../org/actor';
import { scimDeps } from '../actor';

/** The organization's group-to-role mappings and the SCIM groups its provider pushed (admins and the owner). */
export const groupRoles = authedProcedure
  .input(orgIdInput)
  .query(({ ctx, input }) => listScimGroupRoles(scimDeps(ctx), actorOf(ctx), input.organizationId));
