import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';
import { desktop, expectFitsAndAccessible, nextCode, phone, rows, signIn } from './pages';

// Organizations as their owner and an invited person use them in real Chromium: create, invite
// by mail, accept through the invitation page, change the role, remove.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * What the page logs as an error. Refused calls' status lines are not: a signed-out resume
 * (401), a step-up asked for (403), and the refusals this test asks for on purpose (409: a slug
 * taken, the owner leaving).
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

async function invitationToken(t: TestServer, email: string, before: number): Promise<string> {
  const mail = await t.mail.waitFor(
    (message) => t.mail.messages.indexOf(message) >= before && message.to.includes(email) && message.tags.template === 'org_invitation',
  );
  return linkTokenFrom(mail);
}

describe('the console: organizations', () => {
  it('an owner creates an organization and invites a user, who accepts through the page; the owner changes their role and removes them', async () => {
    await using t = await createTestServer({ hostName: 'localhost' });
    const owner = await t.signUp({ name: 'Olive Owner' });
    const member = await t.signUp({ name: 'Mo Member' });
    // The organization page's picture, kept where CONSOLE_SHOTS says, else in a temp dir of its own.
    const shots = process.env.CONSOLE_SHOTS ?? (await mkdtemp(join(tmpdir(), 'console-orgs-')));
    const ownerContext = await browser.newContext({ viewport: desktop });
    const memberContext = await browser.newContext({ viewport: phone });
    try {
      const page = await ownerContext.newPage();
      const errors = collectErrors(page);
      await signIn(t, page, owner);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Organizations' }).click();
      await page.getByRole('heading', { name: 'Organizations', exact: true }).waitFor();
      await page.getByText('You are not a member of any organization yet.').waitFor();

      // Created with a slug of its own: the organization's page, the caller its owner.
      await page.getByLabel('Name', { exact: true }).fill('Acme Research');
      await page.getByLabel('Slug (optional)').fill('acme');
      await page.getByRole('button', { name: 'Create organization' }).click();
      await page.getByRole('heading', { name: /^Acme Research/ }).waitFor();
      const organizationId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
      expect(organizationId).toMatch(/^org_/);
      expect(await rows(t, 'SELECT user_id, role FROM organization_members WHERE organization_id = ?', [organizationId])).toEqual([
        { user_id: owner.userId, role: 'owner' },
      ]);

      // A second one asking for the same slug is refused in words; markup in a name too.
      await page.getByRole('link', { name: 'All organizations' }).click();
      await page.getByRole('link', { name: 'Acme Research' }).waitFor();
      await page.getByLabel('Name', { exact: true }).fill('Acme Again');
      await page.getByLabel('Slug (optional)').fill('acme');
      await page.getByRole('button', { name: 'Create organization' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('Another organization already uses this slug. Choose another.');
      expect(await rows(t, 'SELECT id FROM organizations', [])).toHaveLength(1);

      // Switched to: the list marks it active, and the session acts in it.
      await page.getByRole('button', { name: 'Act in Acme Research' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toBe('You now act in Acme Research.');
      await page.locator('.org.active').getByText('Active').waitFor();
      expect(
        await rows(t, 'SELECT active_organization_id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [owner.userId]),
      ).toContainEqual({ active_organization_id: organizationId });
      await expectFitsAndAccessible(page, 'organizations');

      // The invitation: mailed, listed as pending.
      await page.getByRole('link', { name: 'Acme Research' }).click();
      await page.getByRole('heading', { name: 'Members (1)' }).waitFor();
      let before = t.mail.messages.length;
      await page.getByLabel('Email to invite').fill(member.email);
      await page.getByRole('button', { name: 'Send invitation' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toBe(`An invitation is on its way to ${member.email}.`);
      const token = await invitationToken(t, member.email, before);
      await page.getByRole('button', { name: `Revoke the invitation to ${member.email}` }).waitFor();

      // The invited user opens the link signed out: signs in, comes back, accepts with the button.
      const memberPage = await memberContext.newPage();
      const memberErrors = collectErrors(memberPage);
      await memberPage.goto(`${t.url}/console/accept-invitation?token=${token}`);
      await memberPage.getByRole('heading', { name: 'Join an organization' }).waitFor();
      await memberPage.getByRole('link', { name: 'Sign in to accept' }).click();
      before = t.mail.messages.length;
      await memberPage.getByLabel('Email', { exact: true }).fill(member.email);
      await memberPage.getByLabel('Password', { exact: true }).fill(member.password);
      await memberPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      const accept = memberPage.getByRole('button', { name: 'Accept invitation' });
      const challenge = memberPage.getByRole('heading', { name: 'Confirm it is you' });
      await accept.or(challenge).waitFor();
      if (await challenge.isVisible()) {
        await memberPage.getByLabel('Code', { exact: true }).fill(await nextCode(t, member.email, before));
        await memberPage.getByRole('button', { name: 'Continue' }).click();
      }
      await accept.waitFor();
      expect(new URL(memberPage.url()).pathname).toBe('/console/accept-invitation');
      expect(await rows(t, 'SELECT user_id FROM organization_members WHERE user_id = ?', [member.userId])).toEqual([]);
      await expectFitsAndAccessible(memberPage, 'accept-invitation');
      await accept.click();
      await expect.poll(() => memberPage.getByRole('status').textContent()).toBe('You are now a member of Acme Research.');
      expect(
        await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [organizationId, member.userId]),
      ).toEqual([{ role: 'member' }]);
      // A member sees the members, and no button their role does not allow.
      await memberPage.getByRole('link', { name: 'Open Acme Research' }).click();
      await memberPage.getByRole('heading', { name: 'Members (2)' }).waitFor();
      expect(await memberPage.getByRole('button', { name: /^Remove / }).count()).toBe(0);
      expect(await memberPage.getByLabel('Email to invite').count()).toBe(0);
      expect(await memberPage.getByRole('heading', { name: 'Audit events' }).count()).toBe(0);
      await memberPage.getByRole('button', { name: 'Leave organization…' }).waitFor();
      expect(memberErrors).toEqual([]);

      // The owner sees them as a member, no invitation left; a new one pending, for the picture.
      await page.reload();
      await page.getByRole('heading', { name: 'Members (2)' }).waitFor();
      const memberRow = page.getByRole('region', { name: 'Members', exact: true }).getByRole('row').filter({ hasText: member.email });
      await memberRow.waitFor();
      expect(await memberRow.textContent()).toContain('Mo Member');
      const pendingEmail = uniqueEmail('pending');
      before = t.mail.messages.length;
      await page.getByLabel('Email to invite').fill(pendingEmail);
      await page.getByLabel('Role', { exact: true }).selectOption('admin');
      await page.getByRole('button', { name: 'Send invitation' }).click();
      await invitationToken(t, pendingEmail, before);
      await page.getByRole('button', { name: `Revoke the invitation to ${pendingEmail}` }).waitFor();

      // The role: made an admin.
      await page.getByLabel(`Role of ${member.email}`).selectOption('admin');
      await expect.poll(() => page.getByRole('status').textContent()).toBe('Mo Member is now an admin.');
      expect(
        await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [organizationId, member.userId]),
      ).toEqual([{ role: 'admin' }]);
      await page.getByRole('row').filter({ hasText: 'org.role_changed' }).first().waitFor();
      await expectFitsAndAccessible(page, 'organization');
      const shot = join(shots, 'organization.png');
      await page.setViewportSize(desktop);
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(10_000);

      // The owner cannot leave: the refusal says what to do.
      await page.getByRole('button', { name: 'Leave organization…' }).click();
      await page.getByRole('button', { name: 'Yes, leave' }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toBe('The owner cannot leave. Transfer the ownership to another member first.');
      expect(await rows(t, 'SELECT role FROM organization_members WHERE user_id = ?', [owner.userId])).toEqual([{ role: 'owner' }]);

      // Removed, after a confirmation; the pending invitation revoked.
      await page.getByRole('button', { name: `Remove ${member.email}` }).click();
      await page.getByRole('button', { name: 'Yes, remove' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toBe('Mo Member is no longer a member.');
      await page.getByRole('heading', { name: 'Members (1)' }).waitFor();
      expect(await rows(t, 'SELECT user_id FROM organization_members WHERE organization_id = ?', [organizationId])).toEqual([
        { user_id: owner.userId },
      ]);
      await page.getByRole('button', { name: `Revoke the invitation to ${pendingEmail}` }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toBe(`The invitation to ${pendingEmail} is revoked.`);
      await page.getByText('No pending invitations.').waitFor();

      // The audit, newest first: what happened, by whom.
      const audit = await rows(t, 'SELECT type FROM audit_events WHERE organization_id = ? ORDER BY created_at', [organizationId]);
      expect(audit.map((row) => row.type)).toEqual(
        expect.arrayContaining(['org.created', 'org.member_invited', 'org.member_joined', 'org.role_changed', 'org.member_removed']),
      );
      await page.getByRole('row').filter({ hasText: 'org.member_removed' }).first().waitFor();

      // Every member's session ended, with a step-up by mail; the page's own session goes on.
      const live = await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [owner.userId]);
      expect(live.length).toBeGreaterThan(1);
      await page.getByRole('button', { name: "End every member's session…" }).click();
      before = t.mail.messages.length;
      await page.getByRole('button', { name: 'Yes, end every session' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^[1-9]\d* sessions? ended\.$/);
      expect(await rows(t, 'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [owner.userId])).toHaveLength(1);
      await page.reload();
      await page.getByRole('heading', { name: 'Members (1)' }).waitFor();

      expect(errors).toEqual([]);
    } finally {
      await ownerContext.close();
      await memberContext.close();
      if (!process.env.CONSOLE_SHOTS) await rm(shots, { recursive: true, force: true });
    }
  });
});
