import { bffAuthorizeInput } from '@iam/shared';
import { memberRole } from '../../modules/orgs/orgs';
import { authorizeAccessToken } from '../../modules/tokens/introspection';
import { hmacProcedure } from '../../trpc/procedures';

/**
 * Whether a user's access token is active and holds `all` (default) or `any` of the roles; with
 * `organization`, whether it acts in that organization and its holder is a member of it now.
 */
export const authorize = hmacProcedure.input(bffAuthorizeInput).mutation(({ ctx, input }) =>
  authorizeAccessToken(
    {
      ...ctx.services,
      membershipRole: (organizationId, userId) => memberRole(ctx.services.db, organizationId, userId),
    },
    input.accessToken,
    { roles: input.roles, mode: input.mode ?? 'all', organization: input.organization },
  ),
);
