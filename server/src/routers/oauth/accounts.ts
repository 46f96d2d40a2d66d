import { listLinkedAccounts } from '../../modules/auth/oauthAccounts';
import { authedProcedure } from '../../trpc/procedures';

export const accounts = authedProcedure.query(({ ctx }) => listLinkedAccounts(ctx.services, ctx.auth.userId));
