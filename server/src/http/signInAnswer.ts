import { httpStatusOf, type IamErrorCode, iamErrors } from '@iam/shared';
import type { Response } from 'express';
import { isDatabaseUnavailableError } from '../db/client';
import type { OAuthSignInResult } from '../modules/auth/oauthAccounts';
import type { Services } from '../modules/auth/services';
import { isIamError } from '../modules/errors/iamError';
import { matchesReturnToAllowlist } from '../modules/oauth/config';
import { respondSignedIn } from '../trpc/authResult';
import type { createHttpContextFactory } from '../trpc/context';
import { escapeHtml, sendHtmlPage } from './html';

/**
 * How a browser sign-in through a provider ends, for the OAuth callback route and the SAML ACS:
 * the session cookies when signed in, then a 303 to the flow's `returnTo` (or `defaultReturnTo`),
 * both re-checked against the allowlist so it is never an open redirect (RFC 9700 §4.11), with
 * the outcome in the query (`status`, `challengeId`, or `error` with a catalog code and maybe a
 * `reason`); a link token travels in the fragment. With no address to return to, a small page.
 */
export interface SignInFailure {
  code: IamErrorCode;
  reason?: string | undefined;
}

type HttpContext = ReturnType<ReturnType<typeof createHttpContextFactory>>;

export function finishSignIn(
  services: Services,
  res: Response,
  /** The browser's context, to set the session cookies; null where nobody can be signed in. */
  ctx: HttpContext | null,
  flowReturnTo: string | null,
  result: OAuthSignInResult | null,
  failure: SignInFailure | null,
): void {
  const returnTo = [flowReturnTo, services.oauth.defaultReturnTo].find(
    (candidate): candidate is string =>
      typeof candidate === 'string' && matchesReturnToAllowlist(services.oauth.returnToAllowlist, candidate),
  );
  if (ctx && result?.status === 'authenticated') respondSignedIn(ctx, result);
  const answer = answerFor(returnTo ? new URL(returnTo) : null, result, failure);
  if (answer.kind === 'redirect') res.redirect(303, answer.url.href);
  else page(res, answer.status, answer.title, answer.message);
}

/** The failure a thrown error is answered with: its catalog code (and reason), or a logged generic one. */
export function failureOf(services: Services, error: unknown, what: string): SignInFailure {
  if (isIamError(error)) return { code: error.code, reason: error.reason };
  if (isDatabaseUnavailableError(error)) {
    services.logger.error({ err: error }, 'database unavailable');
    return { code: 'SERVICE_UNAVAILABLE' };
  }
  services.logger.error({ err: error }, `${what} failed`);
  return { code: 'INTERNAL' };
}

export function page(res: Response, status: number, title: string, message: string): void {
  sendHtmlPage(res, { status, title, bodyHtml: `<p>${escapeHtml(message)}</p>` });
}

type Answer = { kind: 'redirect'; url: URL } | { kind: 'page'; status: number; title: string; message: string };

/** Where the browser goes after the callback: the allowlisted return address with the outcome, or a page. */
function answerFor(
  target: URL | null,
  result: OAuthSignInResult | null,
  failure: { code: IamErrorCode; reason?: string | undefined } | null,
): Answer {
  if (failure || !result) {
    const code = failure?.code ?? 'INTERNAL';
    if (!target)
      return {
        kind: 'page',
        status: httpStatusOf(code),
        title: 'Sign-in failed',
        message: iamErrors[code].message,
      };
    target.searchParams.set('error', code);
    if (failure?.reason) target.searchParams.set('reason', failure.reason);
    return { kind: 'redirect', url: target };
  }
  switch (result.status) {
    case 'authenticated':
      if (!target) return { kind: 'page', status: 200, title: 'Signed in', message: 'You are signed in. You can close this page.' };
      target.searchParams.set('status', 'authenticated');
      return { kind: 'redirect', url: target };
    case 'mfa_required':
      if (!target) {
        const message = 'Enter the code from your authenticator app in the app you were signing in to.';
        return { kind: 'page', status: 200, title: 'One more step', message };
      }
      target.searchParams.set('status', 'mfa_required');
      target.searchParams.set('challengeId', result.challengeId);
      target.searchParams.set('methods', result.methods.join(','));
      return { kind: 'redirect', url: target };
    case 'link_required':
      if (!target) {
        const message = 'Sign in to your account first, then link this sign-in provider from your account settings.';
        return { kind: 'page', status: 200, title: 'Sign in to link this account', message };
      }
      target.searchParams.set('status', 'link_required');
      target.searchParams.set('provider', result.provider);
      if (result.email) target.searchParams.set('email', result.email);
      target.hash = new URLSearchParams({ linkToken: result.linkToken }).toString();
      return { kind: 'redirect', url: target };
  }
}
