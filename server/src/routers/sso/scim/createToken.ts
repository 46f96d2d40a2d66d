import { scimTokenCreateInput } from '@iam/shared';
import { requireStepUp } from '../../../modules/auth/stepUp';
import { createScimToken } from '../../../modules/scim/tokens';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { scimDeps } from '../actor';

/** A new SCIM bearer token of the organization, shown once (admins and the owner, behind the `org_sso` step-up). */
export const createToken = authedProcedure
  .input(scimTokenCreateInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) =>
    createScimToken(scimDeps(ctx), actorOf(ctx), input, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sso', stepUpToken: input.stepUpToken }, tx),
    ),
  );
