import { loginInput } from '@iam/shared';
import { login as loginUser } from '../../modules/auth/login';
import { respondSignedIn } from '../../trpc/authResult';
import { publicProcedure } from '../../trpc/procedures';

export const login = publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
  const result = await loginUser(ctx.services, input, ctx.client);
  return result.status === 'authenticated' ? respondSignedIn(ctx, result) : result;
});
