import express, { type Request, type Response, type Router } from 'express';
import type { OAuthSignInResult } from '../modules/auth/oauthAccounts';
import { completeOAuth, consumeOAuthState, type OAuthFlow } from '../modules/auth/oauthFlow';
import { pageUrl, type Services } from '../modules/auth/services';
import { isIamError } from '../modules/errors/iamError';
import { providerIdPattern } from '../modules/oauth/config';
import { assertIpNotBlocked, consumeLimits } from '../modules/rateLimit/guards';
import { createHttpContextFactory } from '../trpc/context';
import { failureOf, finishSignIn, page, type SignInFailure } from './signInAnswer';

/**
 * The default redirect URI, `${PUBLIC_URL}/oauth/callback/<id>`, for apps that let the
 * service finish the flow itself: it spends the state, redeems the code, sets the session
 * cookies and sends the browser to the flow's `returnTo` (or `defaultReturnTo`), both on the
 * allowlist, so it is never an open redirect (RFC 9700 §4.11). The outcome travels in the
 * query (`status`, `challengeId`, or `error` with a catalog code); a link token travels in
 * the fragment, which never reaches a server or a `Referer`. With no address to return to, a
 * small page says what happened. Tokens never travel in the URL: the app calls
 * `session.refresh` (the refresh cookie is set) to get its access token.
 */
const providerErrorPattern = /^[a-z_]{1,64}$/;

export function createOAuthCallbackRoute(services: Services): Router {
  const router = express.Router();
  const createContext = createHttpContextFactory(services);
  const path = '/oauth/callback/:provider';
  const finish = (
    res: Response,
    ctx: ReturnType<typeof createContext>,
    flow: OAuthFlow | null,
    result: OAuthSignInResult | null,
    failure: SignInFailure | null,
  ) => finishSignIn(services, res, ctx, flow?.returnTo ?? null, result, failure);

  // response_mode=form_post (Apple): the provider's cross-site POST carries no SameSite=Lax
  // canary, so it is answered with a 303 to the same address as a GET, a top-level navigation
  // that does; the GET below does the work. Nothing is read or written here.
  router.post(path, express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }), async (req: Request, res: Response) => {
    const provider = await knownProvider(services, req.params.provider);
    if (!provider) return page(res, 404, 'Sign-in', 'This sign-in provider is not configured.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const target = pageUrl(services.settings, `oauth/callback/${provider}`);
    for (const name of ['code', 'state', 'iss', 'error']) {
      const value = body[name];
      if (typeof value === 'string' && value.length <= 2048) target.searchParams.set(name, value);
    }
    res.setHeader('Cache-Control', 'no-store');
    return res.redirect(303, target.href);
  });

  router.get(path, async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    const provider = await knownProvider(services, req.params.provider);
    if (!provider) return page(res, 404, 'Sign-in', 'This sign-in provider is not configured.');
    const ctx = createContext({ req, res });
    const param = (name: string): string | undefined => {
      const value = req.query[name];
      return typeof value === 'string' && value.length > 0 && value.length <= 2048 && /^[\x20-\x7e]+$/.test(value) ? value : undefined;
    };

    let flow: OAuthFlow | null = null;
    try {
      await assertIpNotBlocked(services.limits, ctx.client.ip);
      await consumeLimits(services.limits, [['oauthPerIp', ctx.client.ip]]);
      flow = await consumeOAuthState(services, { provider, state: param('state') }, ctx.client);
      const providerError = param('error');
      const code = param('code');
      if (providerError || !code) {
        // RFC 6749 §4.1.2.1: the provider refused (e.g. the person cancelled); the state is spent.
        const reason = providerError && providerErrorPattern.test(providerError) ? providerError : undefined;
        return finish(res, ctx, flow, null, { code: 'OAUTH_PROVIDER_ERROR', reason });
      }
      const result = await completeOAuth(services, flow, { code, state: param('state') ?? '', iss: param('iss') }, ctx.client);
      return finish(res, ctx, flow, result, null);
    } catch (error) {
      if (isIamError(error) && error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
      return finish(res, ctx, flow, null, { code: failureOf(services, error, 'OAuth callback').code });
    }
  });

  return router;
}

/** A configured provider's id, or an SSO connection's (its row read, cached briefly); null for anything else. */
async function knownProvider(services: Services, value: unknown): Promise<string | null> {
  if (typeof value !== 'string' || !providerIdPattern.test(value)) return null;
  try {
    return (await services.oauth.registry.resolve(value)) ? value : null;
  } catch (error) {
    services.logger.error({ err: error }, 'OAuth provider lookup failed');
    return null;
  }
}
