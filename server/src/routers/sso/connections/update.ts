import { ssoConnectionUpdateInput } from '@iam/shared';
import { requireStepUp } from '../../../modules/auth/stepUp';
import { updateConnection } from '../../../modules/sso/connections';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { connectionDeps } from '../actor';

/** Changes a connection's issuer, client, secret or scopes (admins and the owner, behind the `org_sso` step-up). */
export const update = authedProcedure
  .input(ssoConnectionUpdateInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => {
    const { stepUpToken, ...changes } = input;
    return updateConnection(connectionDeps(ctx), actorOf(ctx), changes, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sso', stepUpToken }, tx),
    );
  });
