import { organizationNameSchema, orgUpdateInput } from '@iam/shared';
import { updateOrganization } from '../../modules/orgs/orgs';
import { ssoReady } from '../../modules/sso/connections';
import { authedProcedure } from '../../trpc/procedures';
import { safeText } from '../../trpc/safeText';
import { actorOf, withOrgChangeLimit } from './actor';

/** Renames an organization or changes its slug (admins and the owner); turns required SSO on or off (the owner). */
export const update = authedProcedure
  .input(orgUpdateInput.safeExtend({ name: safeText(organizationNameSchema).optional() }))
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) =>
    updateOrganization(ctx.services, actorOf(ctx), input, (tx, organizationId) => ssoReady(ctx.services.oauth, tx, organizationId)),
  );
