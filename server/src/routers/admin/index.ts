import {
  adminAuditQueryInput,
  adminDestructiveInput,
  adminDisableInput,
  adminSetRolesInput,
  adminUserInput,
  adminUsersListInput,
} from '@iam/shared';
import type { TRPCRouterRecord } from '@trpc/server';
import {
  deleteUser,
  disableUser,
  enableUser,
  getUser,
  listUsers,
  queryAudit,
  resetUserMfa,
  revokeUserSessions,
  setUserRoles,
} from '../../modules/auth/admin';
import { adminProcedure } from '../../trpc/procedures';

/** docs/api.md, admin: role `admin`; destructive calls take a step-up token for the action `admin`. */
export const adminRouter = {
  users: {
    list: adminProcedure.input(adminUsersListInput).query(({ ctx, input }) => listUsers(ctx.services, input ?? {})),
    get: adminProcedure.input(adminUserInput).query(({ ctx, input }) => getUser(ctx.services, input.userId)),
    disable: adminProcedure.input(adminDisableInput).mutation(({ ctx, input }) => disableUser(ctx.services, ctx.actor, input)),
    enable: adminProcedure.input(adminDestructiveInput).mutation(({ ctx, input }) => enableUser(ctx.services, ctx.actor, input)),
    revokeSessions: adminProcedure.input(adminUserInput).mutation(({ ctx, input }) => revokeUserSessions(ctx.services, ctx.actor, input)),
    resetMfa: adminProcedure.input(adminDestructiveInput).mutation(({ ctx, input }) => resetUserMfa(ctx.services, ctx.actor, input)),
    setRoles: adminProcedure.input(adminSetRolesInput).mutation(({ ctx, input }) => setUserRoles(ctx.services, ctx.actor, input)),
    delete: adminProcedure.input(adminDestructiveInput).mutation(({ ctx, input }) => deleteUser(ctx.services, ctx.actor, input)),
  },
  audit: {
    query: adminProcedure.input(adminAuditQueryInput).query(({ ctx, input }) => queryAudit(ctx.services, input ?? {})),
  },
} satisfies TRPCRouterRecord;
