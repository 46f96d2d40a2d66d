import { orgSwitchInput } from '@iam/shared';
import { switchOrganization } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from './actor';

/** Sets the session's active organization (or none) and answers a new access token with its claims. */
export const switchProcedure = authedProcedure
  .input(orgSwitchInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => switchOrganization(ctx.services, actorOf(ctx), input.organizationId));
