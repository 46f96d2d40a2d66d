import { authedProcedure } from '../../trpc/procedures';

export const list = authedProcedure.query(({ ctx }) => ctx.services.passkeys.list(ctx.services.db, ctx.auth.userId));
