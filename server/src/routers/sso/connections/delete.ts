import { ssoConnectionDeleteInput } from '@iam/shared';
import { requireStepUp } from '../../../modules/auth/stepUp';
import { deleteConnection } from '../../../modules/sso/connections';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { connectionDeps } from '../actor';

/** Deletes a connection; its flows stop (admins and the owner, behind the `org_sso` step-up). */
export const deleteProcedure = authedProcedure
  .input(ssoConnectionDeleteInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) =>
    deleteConnection(connectionDeps(ctx), actorOf(ctx), input, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sso', stepUpToken: input.stepUpToken }, tx),
    ),
  );
