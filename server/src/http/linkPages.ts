import express, { type Request, type Response, type Router } from 'express';
import type { Services } from '../modules/auth/services';
import { isIamError } from '../modules/errors/iamError';
import { appRouter } from '../routers/root';
import { createHttpContextFactory } from '../trpc/context';
import { createCallerFactory } from '../trpc/init';
import { escapeHtml, sendHtmlPage } from './html';

/**
 * The pages the emailed links open when PUBLIC_URL is the service itself (standalone, no
 * frontend of its own). Each shows one button: the action happens only on a deliberate
 * POST, so mail scanners that prefetch links consume nothing (docs/api.md). Plain HTML forms,
 * no script; a frontend that serves these paths itself simply never reaches them.
 */
const tokenPattern = /^[A-Za-z0-9_-]{16,128}$/;
const callerFactory = createCallerFactory(appRouter);

interface LinkPage {
  path: string;
  title: string;
  intro: string;
  button: string;
  /** A form field besides the token, e.g. the new password. */
  field?: FormField;
  /** The message to show, or a question: the form again, with a field it needs. */
  run(
    caller: ReturnType<typeof callerFactory>,
    token: string,
    field: string | undefined,
  ): Promise<string | { ask: FormField; intro: string }>;
}

interface FormField {
  name: string;
  label: string;
  type: 'password';
}

const pages: LinkPage[] = [
  {
    path: '/verify-email',
    title: 'Confirm your email address',
    intro: 'Confirm that this address is yours to finish creating your account.',
    button: 'Confirm my address',
    run: async (caller, token, password) => {
      try {
        await caller.auth.verifyEmail(password === undefined ? { token } : { token, password });
      } catch (error) {
        if (!isIamError((error as { cause?: unknown }).cause, 'PASSWORD_REQUIRED')) throw error;
        return {
          ask: { name: 'password', label: 'Choose a password', type: 'password' },
          intro:
            'This account was created in another browser. Choose your own password to finish; any password chosen there stops working.',
        };
      }
      return 'Your address is confirmed and you are signed in. You can close this page.';
    },
  },
  {
    path: '/confirm-sign-in',
    title: 'Confirm the sign-in',
    intro: 'Confirm that you are the one signing in.',
    button: 'Yes, it is me',
    run: async (caller, token) => {
      await caller.mfa.consumeLink({ token });
      return 'You are signed in. You can close this page.';
    },
  },
  {
    path: '/sign-in-link',
    title: 'Sign in',
    intro: 'Sign in on this device with the link you asked for.',
    button: 'Sign in',
    run: async (caller, token) => {
      const result = await caller.auth.signInWithLink({ token });
      return result.status === 'authenticated'
        ? 'You are signed in. You can close this page.'
        : 'One more step: enter the code from your authenticator app where you asked to sign in.';
    },
  },
  {
    path: '/not-me',
    title: 'This was not me',
    intro: 'End the session we told you about. Change your password afterwards if someone may know it.',
    button: 'End that session',
    run: async (caller, token) => {
      await caller.session.notMe({ token });
      return 'That session has ended.';
    },
  },
  {
    path: '/confirm-email-change',
    title: 'Confirm your new address',
    intro: 'Confirm that this is your new address. Every session of your account will be signed out.',
    button: 'Confirm my new address',
    run: async (caller, token) => {
      await caller.auth.confirmEmailChange({ token });
      return 'Your address has changed. Sign in again with the new one.';
    },
  },
  {
    path: '/reset-password',
    title: 'Choose a new password',
    intro: 'Choose a new password. Every session of your account will be signed out.',
    button: 'Set the new password',
    field: { name: 'password', label: 'New password', type: 'password' },
    run: async (caller, token, password) => {
      await caller.auth.resetPassword({ token, password: password ?? '' });
      return 'Your password has been changed. Sign in with the new one.';
    },
  },
];

export function createLinkPages(services: Services, extra: LinkPage[] = []): Router {
  const router = express.Router();
  const createContext = createHttpContextFactory(services);
  for (const page of [...pages, ...extra]) {
    router.get(page.path, (req, res) => {
      const token = typeof req.query.token === 'string' && tokenPattern.test(req.query.token) ? req.query.token : null;
      if (!token) return send(res, 400, page.title, '<p>This link is not valid. Ask for a new one.</p>');
      return send(res, 200, page.title, formHtml(page.intro, page.field, token, page.button));
    });
    router.post(page.path, express.urlencoded({ extended: false, limit: '4kb' }), async (req: Request, res: Response) => {
      const body = req.body as Record<string, unknown>;
      const token = typeof body.token === 'string' && tokenPattern.test(body.token) ? body.token : null;
      if (!token) return send(res, 400, page.title, '<p>This link is not valid. Ask for a new one.</p>');
      // The page's own field, or the one a first answer asked for (verify-email: a password).
      const fieldName = page.field?.name ?? 'password';
      const field = typeof body[fieldName] === 'string' ? (body[fieldName] as string) : undefined;
      try {
        const caller = callerFactory(createContext({ req, res }));
        const outcome = await page.run(caller, token, field);
        if (typeof outcome !== 'string') return send(res, 200, page.title, formHtml(outcome.intro, outcome.ask, token, page.button));
        return send(res, 200, page.title, `<p>${outcome}</p>`);
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        if (isIamError(cause)) return send(res, 400, page.title, `<p>${escapeHtml(cause.message)}</p>`);
        if ((error as { code?: string }).code === 'BAD_REQUEST')
          return send(res, 400, page.title, '<p>That did not work: check what you entered.</p>');
        services.logger.error({ err: error, page: page.path }, 'link page failed');
        return send(res, 500, page.title, '<p>Something went wrong. Try again shortly.</p>');
      }
    });
  }
  return router;
}

function formHtml(intro: string, field: FormField | undefined, token: string, button: string): string {
  const input = field
    ? `<label>${field.label}<br><input name="${field.name}" type="${field.type}" required minlength="8" maxlength="256" autocomplete="new-password"></label>`
    : '';
  return `<p>${escapeHtml(intro)}</p><form method="post">${input}<input type="hidden" name="token" value="${token}"><button type="submit">${button}</button></form>`;
}

function send(res: Response, status: number, title: string, bodyHtml: string): void {
  sendHtmlPage(res, { status, title, bodyHtml, postsForm: true });
}
