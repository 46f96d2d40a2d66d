import { orgIdInput } from '@iam/shared';
import { listInvitations } from '../../../modules/orgs/orgs';
import { authedProcedure } from '../../../trpc/procedures';

/** The organization's pending invitations (admins and the owner). */
export const list = authedProcedure
  .input(orgIdInput)
  .query(({ ctx, input }) => listInvitations(ctx.services, ctx.auth.userId, input.organizationId));
