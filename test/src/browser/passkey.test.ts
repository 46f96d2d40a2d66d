import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVirtualAuthenticator, launchChromium } from '../harness/browser';
import { createTestServer } from '../harness/server';
import { pageHost, signInOnTab } from './pages';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('passkeys in real Chromium (CDP virtual authenticator)', () => {
  it('registers a passkey with @simplewebauthn/browser and signs in with it, discoverably, on a page beside the service', async () => {
    const { host } = await pageHost();
    // WebAuthn wants a domain as the RP ID: the service is reached as localhost.
    await using t = await createTestServer({ host, hostName: 'localhost' });
    const user = await t.signUp();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
      await page.goto(`${t.url}/tab.html`);
      await signInOnTab(t, page, user);

      // The client's helpers run the ceremonies with @simplewebauthn/browser.
      expect(await page.evaluate(() => window.passkeys.passkeySupport())).toMatchObject({ passkeys: true });
      const added = await page.evaluate(() => window.passkeys.registerPasskey(window.api, { name: 'Chromium' }));
      expect(added).toMatchObject({ name: 'Chromium' });
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]?.isResidentCredential).toBe(true);

      // The passkey answers a step-up.
      const stepUp = await page.evaluate(async () => {
        const challenge = await window.api.mfa.stepUp.begin.mutate({ action: 'email_change' });
        return { methods: challenge.methods, token: (await window.passkeys.stepUpWithPasskey(window.api, challenge)).stepUpToken };
      });
      expect(stepUp.methods).toContain('passkey');
      expect(stepUp.token).toBeTruthy();

      // Signed out, the same browser signs in with the passkey alone.
      await page.evaluate(() => window.api.auth.logout.mutate());
      const signedIn = await page.evaluate(async () => {
        const result = await window.passkeys.signInWithPasskey(window.api);
        return result.status === 'authenticated' ? result.user.id : result.status;
      });
      expect(signedIn).toBe(user.userId);
      expect(await page.evaluate(() => window.api.passkey.list.query().then((list) => list.map((passkey) => passkey.name)))).toEqual([
        'Chromium',
      ]);
    } finally {
      await context.close();
    }
  });
});
