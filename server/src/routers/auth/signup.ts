import { signupInput } from '@iam/shared';
import { signup as signupUser } from '../../modules/auth/signup';
import { publicProcedure } from '../../trpc/procedures';

export const signup = publicProcedure.input(signupInput).mutation(({ ctx, input }) => signupUser(ctx.services, input, ctx.client));
