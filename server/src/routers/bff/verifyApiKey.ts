import { bffVerifyApiKeyInput } from '@iam/shared';
import { hmacProcedure } from '../../trpc/procedures';

/**
 * Whether a user's API key, as a product received it from a script, is live and holds the
 * scopes; a bad key is an answer, never an error. Counted per key (`apiKeyVerificationsPerKey`).
 */
export const verifyApiKey = hmacProcedure
  .input(bffVerifyApiKeyInput)
  .mutation(({ ctx, input }) => ctx.services.apiKeys.verify(input.key, input.scopes));
