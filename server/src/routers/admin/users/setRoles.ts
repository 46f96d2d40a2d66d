import { adminSetRolesInput } from '@iam/shared';
import { setUserRoles } from '../../../modules/auth/admin';
import { adminProcedure } from '../../../trpc/procedures';

/** Replaces a user's roles (step-up `admin`). */
export const setRoles = adminProcedure.input(adminSetRolesInput).mutation(({ ctx, input }) => setUserRoles(ctx.services, ctx.actor, input));
