import { adminUsersListInput } from '@iam/shared';
import { listUsers } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Users by email prefix or id, a keyset page at a time. */
export const list = adminProcedure.input(adminUsersListInput).query(({ ctx, input }) => listUsers(ctx.services, input ?? {}));
