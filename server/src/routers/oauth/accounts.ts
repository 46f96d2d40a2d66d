import { listLinkedAccounts } from '../../modules/oauth/accounts';
import { authedProcedure } from '../../trpc/procedures';

export const accounts = authedProcedure.query(({ ctx }) => listLinkedAccounts(ctx.services, ctx.auth.userId));
