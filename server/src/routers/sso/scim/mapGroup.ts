import { scimMapGroupInput } from '@iam/shared';
import { requireStepUp } from '../../../modules/auth/stepUp';
import { mapScimGroup } from '../../../modules/scim/roles';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { scimDeps } from '../actor';

/** The organization role a SCIM group of that name gives its members (admins and the owner, behind the `org_sso` step-up). */
export const mapGroup = authedProcedure
  .input(scimMapGroupInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => {
    const { stepUpToken, ...mapping } = input;
    return mapScimGroup(scimDeps(ctx), actorOf(ctx), mapping, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sso', stepUpToken }, tx),
    );
  });
