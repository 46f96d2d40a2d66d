import { adminDestructiveInput } from '@iam/shared';
import { enableUser } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Lets a disabled user sign in again (step-up `admin`). */
export const enable = adminProcedure.input(adminDestructiveInput).mutation(({ ctx, input }) => enableUser(ctx.services, ctx.actor, input));
