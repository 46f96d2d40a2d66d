import { scimTokenRevokeInput } from '@iam/shared';
import { requireStepUp } from '../../../modules/auth/stepUp';
import { revokeScimToken } from '../../../modules/scim/tokens';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { scimDeps } from '../actor';

/** Revokes a SCIM token: its next request is refused (admins and the owner, behind the `org_sso` step-up). */
export const revokeToken = authedProcedure
  .input(scimTokenRevokeInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) =>
    revokeScimToken(scimDeps(ctx), actorOf(ctx), input, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sso', stepUpToken: input.stepUpToken }, tx),
    ),
  );
