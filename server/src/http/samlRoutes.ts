import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { OAuthSignInResult } from '../modules/auth/oauthAccounts';
import {
  acceptSamlResponse,
  findPendingSamlFlow,
  findSamlConnection,
  type PendingSamlFlow,
  type SamlConnection,
  signInWithSaml,
  spendSamlState,
} from '../modules/auth/samlFlow';
import { pageUrl, type Services } from '../modules/auth/services';
import type { ClientInfo } from '../modules/devices/clientInfo';
import { isIamError } from '../modules/errors/iamError';
import { providerIdPattern } from '../modules/oauth/config';
import { assertIpNotBlocked, consumeLimits } from '../modules/rateLimit/guards';
import { maxSamlResponseBytes, samlMetadataXml } from '../modules/sso/saml';
import { clientIp, createHttpContextFactory } from '../trpc/context';
import { failureOf, finishSignIn, page, type SignInFailure } from './signInAnswer';

/**
 * A SAML connection's service-provider routes, under its SP entity ID
 * `${PUBLIC_URL}/sso/saml/<providerId>` (docs/api.md, SAML routes):
 * - `GET …/metadata`: the SP metadata to give the IdP (SAML 2.0 Metadata §2.4.4);
 * - `POST …/acs`: the IdP's Response (HTTP-POST binding, Bindings §3.5). A cross-site POST
 *   carries no SameSite=Lax canary, so it only validates the response and keeps the verified
 *   profile on the flow, then answers 303 to the same address as a GET;
 * - `GET …/acs?RelayState=…`: the browser's own navigation, with its canary: spends the flow
 *   bound to this browser, signs in, sets the session cookies and redirects to the returnTo.
 * Both ACS legs are rate-limited per IP (`oauthPerIp`). Bad input never reaches a 500.
 */
export function createSamlRoutes(services: Services): Router {
  const router = express.Router();
  const createContext = createHttpContextFactory(services);
  const base = '/sso/saml/:provider';
  const form = express.urlencoded({ extended: false, limit: maxSamlResponseBytes, parameterLimit: 10 });

  router.get(`${base}/metadata`, async (req: Request, res: Response) => {
    const connection = await knownConnection(services, req.params.provider);
    if (!connection) return page(res, 404, 'Single sign-on', 'This single sign-on connection does not exist.');
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/samlmetadata+xml').send(samlMetadataXml(connection.sp));
  });

  router.post(
    `${base}/acs`,
    (req: Request, res: Response, next: NextFunction) =>
      form(req, res, (error?: unknown) => {
        // Over 256 KB (413) or a form that does not parse (400): refused before anything is read.
        if (error) {
          const status = (error as { status?: unknown }).status === 413 ? 413 : 400;
          return page(res, status, 'Sign-in failed', 'The sign-in response was not accepted.');
        }
        next();
      }),
    async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      const connection = await knownConnection(services, req.params.provider);
      if (!connection) return page(res, 404, 'Sign-in', 'This single sign-on connection does not exist.');
      // No context (it would name a "new" device): the browser's canary is not sent on this
      // cross-site POST, and a fresh one set here would replace it. Only who is asking.
      const client: ClientInfo = { ip: clientIp(req), userAgent: req.headers['user-agent']?.slice(0, 512) ?? null, canary: null };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
      let flow: PendingSamlFlow | null = null;
      try {
        await assertIpNotBlocked(services.limits, client.ip);
        await consumeLimits(services.limits, [['oauthPerIp', client.ip]]);
        flow = await findPendingSamlFlow(services, connection, text('RelayState'));
        await acceptSamlResponse(services, connection, flow, text('SAMLResponse'), client);
      } catch (error) {
        if (isIamError(error) && error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
        // A refused response reaches the returnTo of its flow when it named one; nothing was kept.
        return finishSignIn(services, res, null, flow?.returnTo ?? null, null, failureOf(services, error, 'SAML ACS'));
      }
      const target = pageUrl(services.settings, `sso/saml/${connection.providerId}/acs`);
      target.searchParams.set('RelayState', flow.state);
      return res.redirect(303, target.href);
    },
  );

  router.get(`${base}/acs`, async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    const connection = await knownConnection(services, req.params.provider);
    if (!connection) return page(res, 404, 'Sign-in', 'This single sign-on connection does not exist.');
    const ctx = createContext({ req, res });
    const value = req.query.RelayState;
    const relayState = typeof value === 'string' && value.length <= 256 && /^[A-Za-z0-9_-]+$/.test(value) ? value : undefined;
    let returnTo: string | null = null;
    let result: OAuthSignInResult | null = null;
    let failure: SignInFailure | null = null;
    try {
      await assertIpNotBlocked(services.limits, ctx.client.ip);
      await consumeLimits(services.limits, [['oauthPerIp', ctx.client.ip]]);
      const flow = await spendSamlState(services, connection, { relayState }, ctx.client);
      returnTo = flow.returnTo;
      result = await signInWithSaml(services, connection, flow.profile, ctx.client);
    } catch (error) {
      if (isIamError(error) && error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
      failure = failureOf(services, error, 'SAML sign-in');
    }
    return finishSignIn(services, res, ctx, returnTo, result, failure);
  });

  return router;
}

/** A usable SAML connection behind a provider id (one primary-key read); null for anything else. */
async function knownConnection(services: Services, value: unknown): Promise<SamlConnection | null> {
  if (typeof value !== 'string' || !providerIdPattern.test(value)) return null;
  try {
    return await findSamlConnection(services, value);
  } catch (error) {
    services.logger.error({ err: error }, 'SAML connection lookup failed');
    return null;
  }
}
