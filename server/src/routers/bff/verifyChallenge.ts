import { bffVerifyChallengeInput } from '@iam/shared';
import { completeLoginChallenge } from '../../modules/auth/completeChallenge';
import type { Context } from '../../trpc/context';
import { hmacProcedure } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';
import { bffSignedIn, forwardedContext } from './forwarded';

/**
 * `mfa.verify` (by code) or `mfa.consumeLink` (by token) on behalf of the browser a BFF serves:
 * completes a sign-in challenge of `bff.login`, or a refresh challenge of `bff.refresh`; the
 * forwarded device becomes trusted, and the BFF keeps the tokens.
 */
export const verifyChallenge = hmacProcedure
  .input(bffVerifyChallengeInput)
  .use(async ({ ctx, input, next }) => next({ ctx: await forwardedContext(ctx, input.client) }))
  .use(withLimits<Context, object>((ctx, input) => [['token' in input ? 'linksPerIp' : 'codesPerIp', ctx.client.ip]]))
  .mutation(async ({ ctx, input }) => {
    const answer = 'token' in input ? { token: input.token } : { challengeId: input.challengeId, code: input.code };
    return bffSignedIn(await completeLoginChallenge(ctx.services, answer, ctx.client), ctx.canaryId);
  });
