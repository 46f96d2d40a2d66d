import { adminAuditStatsInput } from '@iam/shared';
import { auditStats } from '../../../modules/audit/stats';
import { adminProcedure } from '../../../trpc/procedures';

/** Sign-ins, failures, challenges by reason and refresh-token reuse, counted per hour or day. */
export const stats = adminProcedure.input(adminAuditStatsInput).query(({ ctx, input }) => auditStats(ctx.services.db, input));
