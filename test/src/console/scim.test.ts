import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { createTestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { groupSchema, scimRequest } from '../scim/env';
import { desktop, expectFitsAndAccessible, nextCode, rows, signIn } from './pages';

// SCIM provisioning as an organization's owner sets it up in real Chromium: a token created
// behind the step-up and shown once, used by the test as an identity provider would, revoked;
// the limit of live tokens; a group mapped to a role.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * What the page logs as an error. Refused calls' status lines are not: a signed-out resume (401),
 * a step-up asked for (403), and the token limit this test reaches on purpose (409).
 */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 40[139]/.test(message.text()))
      errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** `GET /scim/v2/Users` as the identity provider calls it with `token`: the answer's status. */
async function listUsersWith(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/scim/v2/Users`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/scim+json' } });
  await response.body?.cancel();
  return response.status;
}

describe('the console: SCIM provisioning', () => {
  it('an owner creates a SCIM token behind a step-up, shown once and kept only as a hash, which works until revoked on the page; the limit is said in words; a group is mapped to a role', async () => {
    await using t = await createTestServer({ hostName: 'localhost' });
    const owner = await t.signUp({ name: 'Olive Owner' });
    const { organization } = await owner.api.org.create.mutate({ name: 'Acme Provisioning' });
    const organizationId = organization.id;
    const context = await browser.newContext({ viewport: desktop, permissions: ['clipboard-read', 'clipboard-write'] });
    try {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await signIn(t, page, owner);
      await page.goto(`${t.url}/console/organizations/${organizationId}/sso`);
      await page.getByRole('heading', { name: 'Single sign-on: Acme Provisioning' }).waitFor();
      const card = page.getByRole('region', { name: 'Provisioning (SCIM)' });
      await card.getByText('No tokens yet.').waitFor();

      // The base URL to give the provider, copyable.
      const baseUrl = `${t.url}/scim/v2`;
      await card.getByText(baseUrl, { exact: true }).waitFor();
      await card.getByRole('button', { name: 'Copy the SCIM base URL' }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(baseUrl);

      // Created behind the step-up by mail: nothing is stored before it is confirmed.
      await card.getByLabel('Token name').fill('Okta');
      const before = t.mail.messages.length;
      await card.getByRole('button', { name: 'Create token' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      expect(await rows(t, 'SELECT id FROM scim_tokens', [])).toEqual([]);
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      const shown = card.getByRole('region', { name: 'Your new token: Okta' });
      await shown.waitFor();
      await shown.getByText(/you will not see it again/).waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('scim-new-token-title');
      const token = (await shown.locator('code').textContent()) ?? '';
      expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
      await shown.getByRole('button', { name: 'Copy the new token' }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

      // The database holds its hash and a prefix for display, never the token.
      const stored = await rows(t, 'SELECT * FROM scim_tokens WHERE organization_id = ?', [organizationId]);
      expect(stored).toEqual([
        expect.objectContaining({
          name: 'Okta',
          prefix: token.slice(0, 13),
          token_hash: createHash('sha256').update(token).digest('hex'),
          revoked_at: null,
        }),
      ]);
      expect(JSON.stringify(stored)).not.toContain(token);
      const tokenId = stored[0]?.id as string;
      const item = card.getByRole('listitem').filter({ hasText: token.slice(0, 13) });
      await item.getByText('Never used').waitFor();
      await expectFitsAndAccessible(page, 'single sign-on, a new SCIM token');
      await page.setViewportSize(desktop);

      // The identity provider's call with the token shown is answered; the page then knows it was used.
      expect(await listUsersWith(t.url, token)).toBe(200);
      await shown.getByRole('button', { name: 'I have copied it' }).click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('scim-tokens-title');
      expect(await card.getByText(token, { exact: true }).count()).toBe(0);
      await page.reload();
      await item.getByText(/Last used /).waitFor();
      expect(await page.content()).not.toContain(token);

      // Three live tokens are the most: a fourth is refused in words, before any step-up.
      const spares: string[] = [];
      for (const name of ['Spare one', 'Spare two']) {
        const created = await owner.api.sso.scim.createToken.mutate({
          organizationId,
          name,
          stepUpToken: await stepUpByMail(t, owner, 'org_sso'),
        });
        spares.push(created.token);
      }
      await page.reload();
      await card.getByText('Spare two', { exact: true }).waitFor();
      await card.getByRole('button', { name: 'Create token' }).click();
      await expect
        .poll(() => card.getByRole('alert').textContent())
        .toBe(
          'This organization already has 3 SCIM tokens in use, the most it can hold. Revoke one your identity provider no longer uses, then create a new one.',
        );
      expect(await page.getByRole('dialog').count()).toBe(0);
      expect(await rows(t, 'SELECT id FROM scim_tokens WHERE organization_id = ?', [organizationId])).toHaveLength(3);

      // Revoked after a confirmation and a step-up: the same call is refused at once.
      await item.getByRole('button', { name: `Revoke Okta (${token.slice(0, 13)}…)` }).click();
      let mails = t.mail.messages.length;
      await item.getByRole('button', { name: 'Yes, revoke' }).click();
      await dialog.waitFor();
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, mails));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect
        .poll(() => card.getByRole('status').first().textContent())
        .toBe(`The token Okta (${token.slice(0, 13)}…) is revoked: your identity provider can no longer use it.`);
      await item.getByText('Revoked', { exact: true }).waitFor();
      expect(await item.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);
      expect(await rows(t, 'SELECT revoked_at IS NOT NULL AS revoked FROM scim_tokens WHERE id = ?', [tokenId])).toEqual([{ revoked: 1 }]);
      expect(await listUsersWith(t.url, token)).toBe(401);

      // A group the provider pushed with a live token, said beside the form; then mapped to admin on the page.
      const pushed = await scimRequest(t, 'POST', '/Groups', {
        token: spares[0],
        body: { schemas: [groupSchema], displayName: 'engineering' },
      });
      expect(pushed.status).toBe(201);
      await page.reload();
      await card.getByText('Groups pushed without a mapping: engineering (0 members).').waitFor();
      const groups = card.getByRole('list', { name: 'Mapped groups' });
      await card.getByText('No group is mapped yet.').waitFor();
      await card.getByLabel('Group name').fill('Engineering');
      await card.getByLabel('Role it gives').selectOption('admin');
      mails = t.mail.messages.length;
      await card.getByRole('button', { name: 'Map group' }).click();
      await dialog.waitFor();
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, mails));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => card.getByRole('status').last().textContent()).toBe('Members of the group Engineering are now admins.');
      const mapping = groups.getByRole('listitem').filter({ hasText: 'Engineering' });
      await mapping.getByText('Admin', { exact: true }).waitFor();
      // Names compare without case: the group pushed as "engineering" is the one mapped.
      await mapping.getByText('0 members at the identity provider.').waitFor();
      expect(await card.getByText(/^Groups pushed without a mapping/).count()).toBe(0);
      expect(await rows(t, 'SELECT display_name, role FROM scim_role_mappings WHERE organization_id = ?', [organizationId])).toEqual([
        { display_name: 'Engineering', role: 'admin' },
      ]);
      await expectFitsAndAccessible(page, 'single sign-on, SCIM tokens and a group mapped');
      await page.setViewportSize(desktop);
      await page.screenshot({ path: '/tmp/console-scim.png', fullPage: true });

      // The mapping removed behind the step-up: the group gives no role of its own any more.
      mails = t.mail.messages.length;
      await mapping.getByRole('button', { name: 'Remove the mapping of Engineering' }).click();
      await dialog.waitFor();
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, mails));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect
        .poll(() => card.getByRole('status').last().textContent())
        .toBe('The group Engineering no longer gives a role: its members are members unless another group makes them admins.');
      await card.getByText('No group is mapped yet.').waitFor();
      await card.getByText('Groups pushed without a mapping: engineering (0 members).').waitFor();
      expect(await rows(t, 'SELECT role FROM scim_role_mappings WHERE organization_id = ?', [organizationId])).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
