import { authedProcedure } from '../../trpc/procedures';

export const list = authedProcedure.query(({ ctx }) => ctx.services.apiKeys.list(ctx.auth.userId));
