import { listOrganizations } from '../../modules/orgs/orgs';
import { authedProcedure } from '../../trpc/procedures';

/** The caller's organizations and their role in each. */
export const list = authedProcedure.query(({ ctx }) => listOrganizations(ctx.services, ctx.auth.userId));
