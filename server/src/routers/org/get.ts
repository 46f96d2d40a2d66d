import { orgIdInput } from '@iam/shared';
import { getOrganization } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';

/** An organization and its members, for a member; `NOT_FOUND` for anyone else. */
export const get = authedProcedure
  .input(orgIdInput)
  .query(({ ctx, input }) => getOrganization(ctx.services, ctx.auth.userId, input.organizationId));
