import type { IamServer } from '@iam/server';
import express from 'express';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { browserClientBundle } from '../harness/browser';
import { codeFrom, type TestServer } from '../harness/server';

declare global {
  interface Window {
    api: import('@iam/client').IamClient;
    ended: string[];
    webauthn: typeof import('@simplewebauthn/browser');
    passkeys: Pick<
      typeof import('@iam/client'),
      'passkeySupport' | 'registerPasskey' | 'signInWithPasskey' | 'stepUpWithPasskey' | 'verifyChallengeWithPasskey'
    >;
  }
}

/**
 * A host app that serves a page with the bundled client next to the service (one origin, as a
 * product would), counts the refreshes that reach the service and slows each a little, so
 * tabs that ask within a moment of each other overlap.
 */
export async function pageHost() {
  const script = await browserClientBundle();
  const counts = { refreshes: 0 };
  const host = (iam: IamServer) => {
    const app = express();
    app.get('/client.js', (_req, res) => {
      res.type('application/javascript').send(script);
    });
    app.get('/tab.html', (req, res) => {
      const withoutLocks = req.query.locks === 'off';
      res.type('html').send(`<!doctype html><title>tab</title>
<script>${withoutLocks ? "Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });" : ''}</script>
<script src="/client.js"></script>
<script>
  window.ended = [];
  window.api = iam.createIamClient({ url: location.origin + '/trpc', onSessionEnd: (reason) => window.ended.push(reason) });
</script>`);
    });
    app.use((req, _res, next) => {
      if (req.path.includes('session.refresh')) {
        counts.refreshes++;
        setTimeout(next, 300);
      } else next();
    });
    app.use(iam.app);
    return app;
  };
  return { host, counts };
}

/** Signs the person in on the first tab, through the new-device code their mailbox gets. */
export async function signInOnTab(t: TestServer, tab: Page, user: { email: string; password: string }) {
  const mailsBefore = t.mail.messages.length;
  const first = await tab.evaluate(({ email, password }) => window.api.auth.login.mutate({ email, password }), {
    email: user.email,
    password: user.password,
  });
  if (first.status === 'authenticated') return;
  const mail = await t.mail.waitFor(
    (message) =>
      t.mail.messages.indexOf(message) >= mailsBefore && message.to.includes(user.email) && message.tags.template === 'login_code',
  );
  const code = codeFrom(mail);
  const done = await tab.evaluate(({ challengeId, code }) => window.api.mfa.verify.mutate({ challengeId, code }), {
    challengeId: first.challengeId,
    code,
  });
  expect(done.status).toBe('authenticated');
}
