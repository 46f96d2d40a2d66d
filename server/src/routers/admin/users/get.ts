import { adminUserInput } from '@iam/shared';
import { getUser } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** One user with sessions, devices, linked accounts, passkeys and second factors. */
export const get = adminProcedure.input(adminUserInput).query(({ ctx, input }) => getUser(ctx.services, input.userId));
