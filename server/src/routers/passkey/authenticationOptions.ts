import { passkeyAuthenticationOptionsInput } from '@iam/shared';
import { passkeyAuthenticationOptions } from '../../modules/auth/passkeyFlows';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const authenticationOptions = publicProcedure
  .input(passkeyAuthenticationOptionsInput)
  .use(withLimits((ctx) => [['loginPerIp', ctx.client.ip]]))
  .mutation(({ ctx, input }) => passkeyAuthenticationOptions(ctx.services, input?.challengeId, ctx.client));
