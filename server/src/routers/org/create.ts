import { organizationNameSchema, orgCreateInput } from '@iam/shared';
import { createOrganization } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { safeText } from '../../trpc/safeText';
import { actorOf, withOrgChangeLimit } from './actor';

/** A new organization, the caller its owner. */
export const create = authedProcedure
  // Markup in the name is refused and counts as a strike, as in every free-text field (it is mailed in invitations).
  .input(orgCreateInput.extend({ name: safeText(organizationNameSchema) }))
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => createOrganization(ctx.services, actorOf(ctx), input));
