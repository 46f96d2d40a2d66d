import { adminAuditQueryInput } from '@iam/shared';
import { queryAudit } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Audit events, newest first, filtered, a keyset page at a time. */
export const query = adminProcedure.input(adminAuditQueryInput).query(({ ctx, input }) => queryAudit(ctx.services, input ?? {}));
