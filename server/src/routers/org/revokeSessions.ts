import { orgRevokeSessionsInput } from '@iam/shared';
import { requireStepUp } from '../../modules/auth/stepUp';
import { revokeOrganizationSessions } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from './actor';

/** Ends every live session of every member but the caller's current one, behind a step-up (`org_sessions`). */
export const revokeSessions = authedProcedure
  .input(orgRevokeSessionsInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) =>
    revokeOrganizationSessions(ctx.services, actorOf(ctx), input.organizationId, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_sessions', stepUpToken: input.stepUpToken }, tx),
    ),
  );
