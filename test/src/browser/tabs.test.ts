import type { IamServer } from '@iam/server';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserClientBundle, launchChromium } from '../harness/browser';
import { codeFrom, createTestServer, type TestServer } from '../harness/server';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * A host app that serves a page with the bundled client next to the service (one origin, as a
 * product would), counts the refreshes that reach the service and slows each a little, so
 * tabs that ask within a moment of each other overlap.
 */
async function pageHost() {
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

declare global {
  interface Window {
    api: import('@iam/client').IamClient;
    ended: string[];
  }
}

/** Signs the person in on the first tab, through the new-device code their mailbox gets. */
async function signInOnTab(t: TestServer, tab: Page, user: { email: string; password: string }) {
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

async function twoSignedInTabs(t: TestServer, query: string) {
  const user = await t.signUp();
  const context = await browser.newContext();
  const [one, two] = [await context.newPage(), await context.newPage()];
  for (const tab of [one, two]) await tab.goto(`${t.url}/tab.html${query}`);
  await signInOnTab(t, one, user);
  // The second tab starts from the session cookie the browser shares, as an opened tab does.
  expect((await two.evaluate(() => window.api.session.refresh.mutate())).status).toBe('authenticated');
  return { user, context, one, two };
}

async function liveRefreshTokens(t: TestServer, userId: string): Promise<number> {
  const [rows] = (await t.sql.query(
    'SELECT COUNT(*) AS n FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE s.user_id = ? AND s.revoked_at IS NULL',
    [userId],
  )) as unknown as [Array<{ n: number }>];
  return Number(rows[0]?.n);
}

describe('the client across browser tabs (real Chromium)', () => {
  for (const variant of [
    { label: 'Web Locks', query: '' },
    { label: 'a BroadcastChannel where there are no Web Locks', query: '?locks=off' },
  ]) {
    it(`two tabs whose tokens expired send one refresh between them and both go on (${variant.label})`, async () => {
      const { host, counts } = await pageHost();
      await using t = await createTestServer({ host });
      const { user, context, one, two } = await twoSignedInTabs(t, variant.query);
      try {
        const tokensBefore = await liveRefreshTokens(t, user.userId);
        counts.refreshes = 0;
        t.clock.advance(16 * 60);

        // Both tabs call at almost the same moment; each finds its access token expired.
        const first = one.evaluate(() => window.api.auth.me.query().then((me) => me.id));
        await new Promise((resolve) => setTimeout(resolve, 60));
        const second = two.evaluate(() => window.api.auth.me.query().then((me) => me.id));
        expect(await Promise.all([first, second])).toEqual([user.userId, user.userId]);

        expect(counts.refreshes).toBe(1);
        // One rotation, and no reuse: the session lives on.
        expect(await liveRefreshTokens(t, user.userId)).toBe(tokensBefore + 1);
        expect(await one.evaluate(() => window.ended)).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('signing out in one tab signs the others out', async () => {
    const { host } = await pageHost();
    await using t = await createTestServer({ host });
    const { context, one, two } = await twoSignedInTabs(t, '');
    try {
      await one.evaluate(() => window.api.auth.logout.mutate());
      await two.waitForFunction(() => window.ended.includes('signed_out'));
      const refused = await two.evaluate(() =>
        window.api.auth.me.query().then(
          () => 'signed in',
          (error: { data?: { iamCode?: string } }) => error.data?.iamCode ?? 'no code',
        ),
      );
      expect(refused).toBe('UNAUTHENTICATED');
    } finally {
      await context.close();
    }
  });
});
