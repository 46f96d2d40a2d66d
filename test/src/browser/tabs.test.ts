import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { createTestServer, type TestServer } from '../harness/server';
import { pageHost, signInOnTab } from './pages';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

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
