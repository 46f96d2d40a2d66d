import { adminDisableInput } from '@iam/shared';
import { disableUser } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Disables a user and ends every session at once (step-up `admin`). */
export const disable = adminProcedure.input(adminDisableInput).mutation(({ ctx, input }) => disableUser(ctx.services, ctx.actor, input));
