import { IamError } from '../../modules/errors/iamError';
import { toPublicUser } from '../../modules/users/publicUser';
import { findUserById } from '../../modules/users/users';
import { authedProcedure } from '../../trpc/procedures';

export const me = authedProcedure.query(async ({ ctx }) => {
  const user = await findUserById(ctx.services.db, ctx.auth.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  return toPublicUser(user);
});
