import { orgIdInput } from '@iam/shared';
import { listScimTokens } from '../../../modules/scim/tokens';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf } from '../../org/actor';
import { scimDeps } from '../actor';

/** The organization's SCIM tokens, never the tokens themselves (admins and the owner). */
export const listTokens = authedProcedure
  .input(orgIdInput)
  .query(({ ctx, input }) => listScimTokens(scimDeps(ctx), actorOf(ctx), input.organizationId));
