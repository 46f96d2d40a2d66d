import { orgIdInput } from '@iam/shared';
import { pageUrl } from '../../../modules/auth/services';
import { listScimTokens } from '../../../modules/scim/tokens';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf } from '../../org/actor';
import { scimDeps } from '../actor';

/** The organization's SCIM tokens, never the tokens themselves, and the base URL to give the provider (admins and the owner). */
export const listTokens = authedProcedure.input(orgIdInput).query(async ({ ctx, input }) => ({
  ...(await listScimTokens(scimDeps(ctx), actorOf(ctx), input.organizationId)),
  baseUrl: pageUrl(ctx.services.settings, 'scim/v2').href,
}));
