import { orgTransferOwnershipInput } from '@iam/shared';
import { requireStepUp } from '../../modules/auth/stepUp';
import { transferOwnership as transfer } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from './actor';

/** Hands the organization to another member, behind a step-up (`org_ownership`); the old owner becomes an admin. */
export const transferOwnership = authedProcedure
  .input(orgTransferOwnershipInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) =>
    transfer(ctx.services, actorOf(ctx), input, (tx) =>
      requireStepUp(ctx.services, { sessionId: ctx.auth.sessionId, action: 'org_ownership', stepUpToken: input.stepUpToken }, tx),
    ),
  );
