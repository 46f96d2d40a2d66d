import { readFile } from 'node:fs/promises';
import { describeReason } from '@iam/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { codeFrom, createTestServer, uniqueEmail } from '../harness/server';
import { desktop, expectFitsAndAccessible, nextCode, phone, rows, signIn } from './pages';

// Sessions and devices, security activity and account settings, as a person uses them in real
// Chromium, signed in on two devices at once.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the console: sessions and devices, security activity, account settings', () => {
  it('shows both devices, signs the other one out (which then lands on sign-in), lists the events, and changes, exports and deletes the account', async () => {
    await using t = await createTestServer({ hostName: 'localhost' });
    const laptop = await browser.newContext({ viewport: desktop });
    const other = await browser.newContext({ viewport: phone });
    try {
      // Device one signs up (the first sign-in after verification is not challenged).
      const page = await laptop.newPage();
      const user = { email: uniqueEmail('account'), password: 'a long enough passphrase' };
      await page.goto(`${t.url}/console/sign-up`);
      await page.getByLabel('Email', { exact: true }).fill(user.email);
      await page.getByLabel('Password', { exact: true }).fill(user.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();
      await page.getByLabel('Code', { exact: true }).fill(codeFrom(await t.lastMailTo(user.email)));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      const [account] = await rows(t, 'SELECT id FROM users WHERE email = ?', [user.email]);
      const userId = String(account?.id);

      // Device two signs in, through the new-device challenge.
      const otherPage = await other.newPage();
      await signIn(t, otherPage, user);

      // Sessions: both devices, "This device" on one, and why the other was asked for a code.
      await page.getByRole('link', { name: 'Sessions' }).click();
      await page.getByRole('heading', { name: 'Sessions and devices' }).waitFor();
      const devices = page
        .getByRole('list', { name: 'Signed-in devices' })
        .getByRole('listitem')
        .filter({ has: page.getByRole('heading') });
      await expect.poll(() => devices.count()).toBe(2);
      await expect.poll(() => devices.filter({ hasText: 'This device' }).count()).toBe(1);
      const otherDevice = devices.filter({ hasNotText: 'This device' });
      await expect.poll(() => otherDevice.textContent()).toContain(describeReason('new_device'));
      await expectFitsAndAccessible(page);

      // The other device watches its own sessions page; signing it out from here ends it there.
      await otherPage.goto(`${t.url}/console/sessions`);
      await otherPage.getByRole('heading', { name: 'Sessions and devices' }).waitFor();
      await otherDevice.getByRole('button', { name: /^Sign out/ }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toContain('is signed out');
      const sessions = await rows(t, 'SELECT id, revoked_at FROM sessions WHERE user_id = ?', [userId]);
      expect(sessions).toHaveLength(2);
      expect(sessions.filter((session) => session.revoked_at instanceof Date)).toHaveLength(1);
      await expect.poll(() => devices.count()).toBe(1);
      // Within the page's refetch interval (15 s), the revoked device is on the sign-in page.
      await otherPage.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 25_000 });

      // Activity: the sign-ins, the challenge and the sign-out, in words.
      await page.getByRole('link', { name: 'Activity' }).click();
      await page.getByRole('heading', { name: 'Security activity' }).waitFor();
      const events = page.getByRole('list', { name: 'Security events' });
      await expect.poll(() => events.getByText('You signed in').count()).toBeGreaterThan(0);
      await expect.poll(() => events.getByText('A sign-in was asked for proof that it was you').count()).toBe(1);
      await expect.poll(() => events.getByText('You created your account').count()).toBe(1);
      await expect.poll(() => events.getByText('A session was signed out: you signed it out').count()).toBe(1);
      // Newest first: the sign-out came last, the account's creation first.
      const texts = await events.locator('.event-summary').allTextContents();
      expect(texts.indexOf('A session was signed out: you signed it out')).toBeLessThan(texts.indexOf('You created your account'));
      await expectFitsAndAccessible(page);

      // Settings: the name.
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Change password' }).waitFor();
      await expectFitsAndAccessible(page);
      await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
      await page.getByRole('button', { name: 'Save name' }).click();
      await page.getByText('Your name is saved.').waitFor();
      expect((await rows(t, 'SELECT name FROM users WHERE id = ?', [userId]))[0]?.name).toBe('Ada Lovelace');

      // The password: the new one signs in, the old one no longer does.
      const newPassword = 'another long enough passphrase';
      await page.getByLabel('Current password', { exact: true }).fill(user.password);
      await page.getByLabel('New password', { exact: true }).fill(newPassword);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('Your password is changed.', { exact: false }).waitFor();
      const signedIn = await t.signInOnNewDevice({ email: user.email, password: newPassword });
      expect(signedIn.sessionId).toMatch(/^ses_/);
      await expect(t.client().api.auth.login.mutate({ email: user.email, password: user.password })).rejects.toMatchObject({
        data: { iamCode: 'INVALID_CREDENTIALS' },
      });

      // The data download: a JSON file with the account's address in it.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my data' }).click()]);
      expect(download.suggestedFilename()).toMatch(/\.json$/);
      const exported = JSON.parse(await readFile(await download.path(), 'utf8')) as { profile: { email: string; name: string } };
      expect(exported.profile.email).toBe(user.email);
      expect(exported.profile.name).toBe('Ada Lovelace');

      // Deleting the account: a confirmation, then a step-up by mailed code, then sign-in.
      await page.getByRole('button', { name: 'Delete my account…' }).click();
      const before = t.mail.messages.length;
      await page.getByRole('button', { name: 'Yes, delete my account' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await expectFitsAndAccessible(page);
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, user.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await rows(t, 'SELECT id FROM users WHERE id = ?', [userId])).toHaveLength(0);
      const live = await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [userId]);
      expect(live).toHaveLength(0);
    } finally {
      await laptop.close();
      await other.close();
    }
  }, 120_000);
});
