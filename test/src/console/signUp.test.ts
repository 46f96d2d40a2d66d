import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { codeFrom, createTestServer, uniqueEmail } from '../harness/server';
import { collectErrors, seriousViolations } from './pages';

// The console as a person uses it, in real Chromium, at a phone's width and a desktop's.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the console: sign-up, verification, sign-out and sign-in', () => {
  for (const viewport of [
    { width: 375, height: 740 },
    { width: 1280, height: 800 },
  ]) {
    it(`at ${viewport.width} px: a new user signs up, verifies with the mailed code, signs out and signs in again`, async () => {
      await using t = await createTestServer({ hostName: 'localhost' });
      const context = await browser.newContext({ viewport });
      try {
        const page = await context.newPage();
        const errors = collectErrors(page);
        const response = await page.goto(`${t.url}/console/sign-up`);
        expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
        expect(response?.headers()['content-security-policy']).not.toContain('unsafe-inline');
        await page.getByRole('heading', { name: 'Create an account' }).waitFor();
        expect(await seriousViolations(page)).toEqual([]);

        const email = uniqueEmail('console');
        const password = 'a long enough passphrase';
        await page.getByLabel('Email', { exact: true }).fill(email);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.getByRole('heading', { name: 'Check your email' }).waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await page.getByLabel('Code', { exact: true }).fill(codeFrom(await t.lastMailTo(email)));
        await page.getByRole('button', { name: 'Verify' }).click();

        await page.getByRole('heading', { name: 'Your account' }).waitFor();
        await expect.poll(() => page.getByText(email).count()).toBeGreaterThan(0);
        expect(await seriousViolations(page)).toEqual([]);
        // Nothing wider than the screen: no sideways scrolling at a phone's width.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);

        // A reload resumes the session from the refresh cookie.
        await page.reload();
        await page.getByRole('heading', { name: 'Your account' }).waitFor();

        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        const [sessions] = await t.sql.query<import('mysql2').RowDataPacket[]>(
          'SELECT s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?',
          [email],
        );
        expect(sessions.length).toBeGreaterThan(0);
        expect(sessions.every((session) => session.revoked_at instanceof Date)).toBe(true);

        await page.getByLabel('Email', { exact: true }).fill(email);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByRole('heading', { name: 'Your account' }).waitFor();

        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('a wrong password is refused on the page, in words, and signs nobody in', async () => {
    await using t = await createTestServer({ hostName: 'localhost' });
    const user = await t.signUp();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${t.url}/console/sign-in`);
      await page.getByLabel('Email', { exact: true }).fill(user.email);
      await page.getByLabel('Password', { exact: true }).fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('That email and password do not match.');
      const [rows] = await t.sql.query<import('mysql2').RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL',
        [user.userId],
      );
      // Only the session signUp() itself made.
      expect(Number(rows[0]?.n)).toBe(1);
    } finally {
      await context.close();
    }
  });
});
