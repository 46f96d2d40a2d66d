import { orgIdInput } from '@iam/shared';
import { leaveOrganization } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from './actor';

/** Leaves an organization; the owner transfers the ownership first. */
export const leave = authedProcedure
  .input(orgIdInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => leaveOrganization(ctx.services, actorOf(ctx), input.organizationId));
