import { orgSetRoleInput } from '@iam/shared';
import { setMemberRole } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from './actor';

/** Makes a member an admin or an admin a member (the owner only). */
export const setRole = authedProcedure
  .input(orgSetRoleInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => setMemberRole(ctx.services, actorOf(ctx), input));
