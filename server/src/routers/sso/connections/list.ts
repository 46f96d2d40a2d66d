import { orgIdInput } from '@iam/shared';
import { listConnections } from '../../../modules/sso/connections';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf } from '../../org/actor';
import { connectionDeps } from '../actor';

/** The organization's connections, never their secrets (admins and the owner). */
export const list = authedProcedure
  .input(orgIdInput)
  .query(({ ctx, input }) => listConnections(connectionDeps(ctx), actorOf(ctx), input.organizationId));
