import { orgInviteInput } from '@iam/shared';
import { inviteMember } from '../../modules/orgs/orgs';
import { type AuthedContext, authedProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { actorOf, withOrgChangeLimit } from './actor';

/** Mails an invitation link to an address (admins invite members, the owner also admins). */
export const invite = authedProcedure
  .input(orgInviteInput)
  .use(withOrgChangeLimit())
  // Each invitation mails an address that may not be the inviter's (OWASP ASVS 4.0 V2.2.1).
  .use(withLimits<AuthedContext>((ctx) => [['orgInvitesPerUser', ctx.auth.userId]]))
  .mutation(({ ctx, input }) => inviteMember(ctx.services, actorOf(ctx), input));
