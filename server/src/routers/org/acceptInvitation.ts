import { orgAcceptInvitationInput } from '@iam/shared';
import { acceptInvitation as accept } from '../../modules/orgs/orgs';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { actorOf, withOrgChangeLimit } from './actor';

/** Joins the organization an invitation link names, as the signed-in user whose verified address it was sent to. */
export const acceptInvitation = authedProcedure
  .input(orgAcceptInvitationInput)
  // Link tokens are guessed per IP like every emailed link's (linksPerIp).
  .use(withLimits<AuthedContext>((ctx) => [['linksPerIp', ctx.client.ip]]))
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => accept(ctx.services, actorOf(ctx), input.token));
