import { orgAuditInput } from '@iam/shared';
import { organizationAudit } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';

/** The organization's audit events, newest first, a keyset page at a time (admins and the owner). */
export const audit = authedProcedure
  .input(orgAuditInput)
  .query(({ ctx, input }) => organizationAudit(ctx.services, ctx.auth.userId, input));
