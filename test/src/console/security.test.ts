import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVirtualAuthenticator, launchChromium } from '../harness/browser';
import { codeFrom, createTestServer, uniqueEmail } from '../harness/server';
import { totpCode } from '../harness/totp';
import { collectErrors, rows, seriousViolations } from './pages';

// The Security page in real Chromium: an authenticator app set up from the key the page shows,
// the backup codes, a sign-in that asks for the app's code, a passkey added on the page (CDP
// virtual authenticator) and used to sign in, and a step-up answered with it.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the console: the Security page', () => {
  for (const viewport of [
    { width: 375, height: 740 },
    { width: 1280, height: 800 },
  ]) {
    it(`at ${viewport.width} px: TOTP set up from the shown key, then a sign-in with its code; a passkey added, signed in with, and answering a step-up`, async () => {
      await using t = await createTestServer({ hostName: 'localhost' });
      const context = await browser.newContext({ viewport });
      try {
        const page = await context.newPage();
        const errors = collectErrors(page);
        const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
        const noSidewaysScroll = async () =>
          expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);

        // Sign up in this browser, so it is the account's known device.
        const email = uniqueEmail('security');
        const password = 'a long enough passphrase';
        await page.goto(`${t.url}/console/sign-up`);
        await page.getByLabel('Email', { exact: true }).fill(email);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.getByRole('heading', { name: 'Check your email' }).waitFor();
        await page.getByLabel('Code', { exact: true }).fill(codeFrom(await t.lastMailTo(email)));
        await page.getByRole('button', { name: 'Verify' }).click();
        await page.getByRole('heading', { name: 'Your account' }).waitFor();
        const [user] = await rows(t, 'SELECT id FROM users WHERE email = ?', [email]);
        const userId = String(user?.id);

        // The Security page, from the navigation.
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).click();
        await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
        await page.getByText('You have no passkeys yet.').waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await noSidewaysScroll();

        // TOTP: the QR code and the key as text; the code an app computes from that key turns it on.
        await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
        const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
        await qr.waitFor();
        expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
        const secret = (await page.locator('code.secret').textContent())?.replace(/\s/g, '') ?? '';
        expect(secret).toMatch(/^[A-Z2-7]{32}$/);
        expect(await seriousViolations(page)).toEqual([]);
        await noSidewaysScroll();
        await page.getByLabel('Code from the app', { exact: true }).fill(totpCode(secret, t.clock.now()));
        await page.getByRole('button', { name: 'Turn on' }).click();

        // The backup codes, once, with the warning to save them.
        await page.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
        await page.getByText('Save these codes now, somewhere safe: they are shown only this once.').waitFor();
        const backupCodes = (await page.getByRole('list', { name: 'Backup codes' }).getByRole('listitem').allTextContents()).map((code) =>
          code.trim(),
        );
        expect(backupCodes).toHaveLength(10);
        expect(new Set(backupCodes).size).toBe(10);
        expect(await seriousViolations(page)).toEqual([]);
        await noSidewaysScroll();
        const [totp] = await rows(t, 'SELECT confirmed_at FROM totp_credentials WHERE user_id = ?', [userId]);
        expect(totp?.confirmed_at).toBeInstanceOf(Date);
        const [backups] = await rows(t, 'SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = ? AND used_at IS NULL', [userId]);
        expect(Number(backups?.n)).toBe(10);
        await page.getByRole('button', { name: 'I have saved them' }).click();
        await page.getByRole('heading', { name: 'Turn it off' }).waitFor();
        expect(await page.getByRole('list', { name: 'Backup codes' }).count()).toBe(0);

        // Signed out, the password alone is not enough: the challenge page asks for the app's code.
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await page.getByLabel('Email', { exact: true }).fill(email);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
        await page.getByText('Use the code from your authenticator app').waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await noSidewaysScroll();
        // The code that turned TOTP on is never accepted again: the next one, half a minute on.
        t.clock.advance(30);
        await page.getByLabel('Code', { exact: true }).fill(totpCode(secret, t.clock.now()));
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('heading', { name: 'Your account' }).waitFor();

        // A passkey, added on the Security page just after signing in (no step-up needed then).
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).click();
        await page.getByLabel('Name for the new passkey (optional)', { exact: true }).fill('Chromium');
        await page.getByRole('button', { name: 'Add a passkey' }).click();
        const passkeys = page.getByRole('list', { name: 'Your passkeys' });
        await passkeys.getByText('Chromium', { exact: true }).waitFor();
        const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        expect(credentials).toHaveLength(1);
        expect(credentials[0]?.isResidentCredential).toBe(true);
        expect((await rows(t, 'SELECT name FROM passkeys WHERE user_id = ?', [userId])).map((row) => row.name)).toEqual(['Chromium']);
        expect(await seriousViolations(page)).toEqual([]);
        await noSidewaysScroll();

        // Renamed on the page.
        await page.getByRole('button', { name: 'Rename Chromium' }).click();
        await page.getByLabel('New name for Chromium', { exact: true }).fill('My laptop');
        await page.getByRole('button', { name: 'Save name' }).click();
        await passkeys.getByText('My laptop', { exact: true }).waitFor();
        expect((await rows(t, 'SELECT name FROM passkeys WHERE user_id = ?', [userId])).map((row) => row.name)).toEqual(['My laptop']);

        // Signed out, the passkey alone signs in.
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
        await page.getByRole('heading', { name: 'Your account' }).waitFor();
        await expect.poll(() => page.getByText(email).count()).toBeGreaterThan(0);
        const [used] = await rows(t, 'SELECT last_used_at FROM passkeys WHERE user_id = ?', [userId]);
        expect(used?.last_used_at).toBeInstanceOf(Date);

        // Turning TOTP off is a sensitive change: the step-up dialog opens, the passkey answers it,
        // and the change goes through with its token (and a backup code as the fresh second factor).
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).click();
        await page.getByLabel('Code from your app or a backup code', { exact: true }).fill(backupCodes[0] ?? '');
        await page.getByRole('button', { name: 'Turn off' }).click();
        const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
        await dialog.waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await noSidewaysScroll();
        await dialog.getByRole('button', { name: 'Confirm with a passkey' }).click();
        await page.getByText('Your authenticator app is off').waitFor();
        expect(await dialog.count()).toBe(0);
        expect(await rows(t, 'SELECT user_id FROM totp_credentials WHERE user_id = ?', [userId])).toEqual([]);
        const [spent] = await rows(t, "SELECT used_at FROM step_up_tokens WHERE user_id = ? AND action = 'totp_disable'", [userId]);
        expect(spent?.used_at).toBeInstanceOf(Date);

        // Removing the passkey asks again; cancelled, nothing changes.
        await page.getByRole('button', { name: 'Remove My laptop' }).click();
        await dialog.waitFor();
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await page.getByText('Cancelled: nothing was changed.').waitFor();
        expect(await rows(t, 'SELECT id FROM passkeys WHERE user_id = ?', [userId])).toHaveLength(1);

        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
