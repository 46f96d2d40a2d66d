import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { createTestServer } from '../harness/server';
import { desktop, expectFitsAndAccessible, nextCode, phone, rows, seriousViolations, signIn } from './pages';

// The operator pages as an admin uses them in real Chromium, with the user they act on signed in
// in another browser at the same time.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the console: the operator pages', () => {
  it('an admin finds a user, disables them with a step-up (their other browser lands on sign-in), sees it in the audit log and the sign-ins on the dashboard', async () => {
    await using t = await createTestServer({ hostName: 'localhost' });
    const admin = await t.signUp();
    // Made admin in the database, as `pnpm iam create-admin` does.
    await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
    const user = await t.signUp();
    const operator = await browser.newContext({ viewport: desktop });
    const other = await browser.newContext({ viewport: phone });
    try {
      // The user, signed in on their own browser: no Admin link, and the admin pages send them home.
      const userPage = await other.newPage();
      await signIn(t, userPage, user);
      expect(await userPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count()).toBe(0);
      await userPage.goto(`${t.url}/console/admin/users`);
      await userPage.getByRole('heading', { name: 'Your account' }).waitFor();
      expect(new URL(userPage.url()).pathname).toBe('/console/');

      // The admin: the Admin link leads to the dashboard.
      const page = await operator.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        // Refused calls (a step-up asked for) log their status line; anything else is an error.
        if (message.type() === 'error' && !/^Failed to load resource/.test(message.text())) errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      await signIn(t, page, admin);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

      // Users: found by searching an email prefix.
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
      await page.getByLabel('Email prefix or user id').fill(user.email.slice(0, user.email.indexOf('@')));
      await page.getByRole('button', { name: 'Search' }).click();
      const result = page.getByRole('link', { name: user.email });
      await result.waitFor();
      // The header and the one user whose address starts so.
      await expect.poll(() => page.getByRole('table').getByRole('row').count()).toBe(2);
      await expectFitsAndAccessible(page, 'users');

      // The detail: profile, sessions, devices; then disabled, confirmed, with a step-up by mail.
      await result.click();
      await page.getByRole('heading', { name: user.email }).waitFor();
      await page.getByRole('heading', { name: /^Sessions \([1-9]\d* live\)$/ }).waitFor();
      await page.getByRole('heading', { name: 'Devices' }).waitFor();
      await expectFitsAndAccessible(page, 'user');
      await page.getByRole('button', { name: 'Disable user…' }).click();
      await page.getByLabel('Reason (optional)').fill('reported by support');
      const before = t.mail.messages.length;
      await page.getByRole('button', { name: 'Yes, disable' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, admin.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toBe('The user is disabled and signed out everywhere.');
      await page.getByText('Disabled: reported by support').waitFor();
      await page.getByRole('button', { name: 'Enable user' }).waitFor();

      const [row] = await rows(t, 'SELECT disabled_at, disabled_reason FROM users WHERE id = ?', [user.userId]);
      expect(row?.disabled_at).toBeInstanceOf(Date);
      expect(row?.disabled_reason).toBe('reported by support');
      expect(await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [user.userId])).toHaveLength(0);
      // The step-up token was spent on it.
      expect(
        await rows(t, `SELECT id FROM audit_events WHERE type = 'user.disabled' AND user_id = ? AND actor_id = ?`, [
          user.userId,
          admin.userId,
        ]),
      ).toHaveLength(1);

      // The user's browser, left alone: its next check of the session ends on the sign-in page.
      await userPage.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 30_000 });
      expect(new URL(userPage.url()).pathname).toBe('/console/sign-in');

      // The audit log shows the disable, by this admin, filtered by type.
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await page.getByLabel('Event type').selectOption('user.disabled');
      await page.getByRole('button', { name: 'Show events' }).click();
      const disabledRow = page.getByRole('row').filter({ hasText: 'user.disabled' });
      await disabledRow.waitFor();
      expect(await disabledRow.count()).toBe(1);
      expect(await disabledRow.textContent()).toContain(user.userId);
      expect(await disabledRow.textContent()).toContain(admin.userId);
      await expectFitsAndAccessible(page, 'audit');

      // The dashboard: three charts drawn, the totals in words count the sign-ins.
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await expect.poll(() => page.locator('figure canvas').count()).toBe(3);
      expect(await page.getByRole('figure').count()).toBe(3);
      const totals = await page.locator('.totals').textContent();
      expect(totals).toMatch(/: [1-9]\d* sign-ins?,/);
      await expectFitsAndAccessible(page, 'dashboard');

      expect(errors).toEqual([]);
    } finally {
      await operator.close();
      await other.close();
    }
  });
});
