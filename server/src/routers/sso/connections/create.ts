import { ssoConnectionCreateInput } from '@iam/shared';
import { requireStepUp } from '../../../modules/auth/stepUp';
import { createConnection } from '../../../modules/sso/connections';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { connectionDeps } from '../actor';

/** A new OpenID Connect connection of the organization (admins and the owner, behind the `org_sso` step-up). */
export const create = authedProcedure
  .input(ssoConnectionCreateInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => {
    const { stepUpToken, ...connection } = input;
    return createConnection(connectionDeps(ctx), actorOf(ctx), connection, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sso', stepUpToken }, tx),
    );
  });
