import { passkeyAuthenticationOptionsInput } from '@iam/shared';
import { publicProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

export const authenticationOptions = publicProcedure
  .input(passkeyAuthenticationOptionsInput)
  .use(withLimits((ctx) => [['loginPerIp', ctx.client.ip]]))
  .mutation(({ ctx }) => ctx.services.passkeys.authenticationOptions(ctx.client));
