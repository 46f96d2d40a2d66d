import { orgMemberInput } from '@iam/shared';
import { removeMember as remove } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from './actor';

/** Removes a member (admins remove members, the owner anyone but itself); effective at once for bff.authorize. */
export const removeMember = authedProcedure
  .input(orgMemberInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => remove(ctx.services, actorOf(ctx), input));
