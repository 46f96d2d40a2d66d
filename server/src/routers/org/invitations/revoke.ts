import { orgInvitationRevokeInput } from '@iam/shared';
import { revokeInvitation } from '../../../modules/orgs/orgs';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../actor';

/** Revokes a pending invitation; its link stops working at once (admins and the owner). */
export const revoke = authedProcedure
  .input(orgInvitationRevokeInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => revokeInvitation(ctx.services, actorOf(ctx), input));
