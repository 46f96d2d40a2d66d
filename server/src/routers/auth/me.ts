import { IamError } from '../../modules/errors/iamError';
import { toPublicUser } from '../../modules/users/publicUser';
import { authedProcedure } from '../../trpc/procedures';

// The row from the user cache: a change made on this instance shows at once, one made on
// another within the cache's poll (about a second; docs/architecture.md, caches). A deleted
// user's sessions are revoked with the row, so their token is refused before this runs; a
// row gone all the same is UNAUTHENTICATED, and a disabled one USER_DISABLED, as at sign-in.
export const me = authedProcedure.query(async ({ ctx }) => {
  const user = await ctx.services.users.get(ctx.auth.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  if (user.disabledAt) throw new IamError('USER_DISABLED');
  return toPublicUser(user);
});
