import { X509Certificate } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser';
import { stepUpByMail } from '../harness/stepUp';
import { startSamlIdp } from '../peers/samlIdp';
import { createSsoEnv, uniqueDomain } from '../sso/env';
import { desktop, expectFitsAndAccessible, nextCode, phone, rows, signIn } from './pages';

// An organization's single sign-on as its owner sets it up in real Chromium: a domain proved
// through the DNS peer, the connection to a real OpenID Provider behind a step-up, required SSO;
// and what a member and an admin see of it.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * What the page logs as an error. Refused calls' status lines are not: a signed-out resume (401),
 * a step-up asked for (403), and the refusals this test asks for on purpose (400: a domain
 * refused, a record not found yet, SSO required without a connection; 409: the connection deleted
 * while SSO is required). A resource the identity provider's pages fail to load is its own.
 */
function collectErrors(page: Page, serviceUrl: string): string[] {
  const errors: string[] = [];
  const service = new URL(serviceUrl).origin;
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (/^Failed to load resource: the server responded with a status of 40[0139]/.test(text)) return;
    // The identity provider's own pages (its favicon, its assets) are not the console's.
    const where = message.location().url;
    if (text.startsWith('Failed to load resource') && where && !where.startsWith(service)) return;
    errors.push(`${text} ${where}`);
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

describe('the console: single sign-on', () => {
  it('an owner verifies a domain by its TXT record, connects the OpenID Provider behind a step-up and requires SSO; a member sees none of it', async () => {
    await using env = await createSsoEnv({ hostName: 'localhost' });
    const { t, idp } = env;
    const domain = uniqueDomain();
    const owner = await t.signUp({ name: 'Olive Owner' });
    const member = await t.signUp({ name: 'Mo Member' });
    const { organization } = await owner.api.org.create.mutate({ name: 'Acme Research' });
    const organizationId = organization.id;
    // Dana's address is at the domain the owner is about to verify.
    const dana = await t.signUp({ name: 'Dana Domain', email: `dana@${domain}` });
    for (const userId of [member.userId, dana.userId])
      await t.sql.query("INSERT INTO organization_members (organization_id, user_id, role, created_at) VALUES (?, ?, 'member', NOW(3))", [
        organizationId,
        userId,
      ]);
    const ownerContext = await browser.newContext({ viewport: desktop, permissions: ['clipboard-read', 'clipboard-write'] });
    const memberContext = await browser.newContext({ viewport: phone });
    const danaContext = await browser.newContext({ viewport: phone });
    try {
      const page = await ownerContext.newPage();
      const errors = collectErrors(page, t.url);
      await signIn(t, page, owner);
      await page.goto(`${t.url}/console/organizations/${organizationId}`);
      await page.getByRole('link', { name: 'Manage single sign-on' }).click();
      await page.getByRole('heading', { name: 'Single sign-on: Acme Research' }).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/console/organizations/${organizationId}/sso`);
      const domainsCard = page.getByRole('region', { name: 'Email domains' });
      const providerCard = page.getByRole('region', { name: 'Identity provider' });
      const requiredCard = page.getByRole('region', { name: 'Required single sign-on' });
      await requiredCard.getByText('No domain is verified yet.').waitFor();

      // Required before anything is set up: refused, and the refusal says why in words.
      const requireSwitch = requiredCard.getByRole('switch', { name: 'Require single sign-on' });
      await expect.poll(() => requireSwitch.isChecked()).toBe(false);
      await requireSwitch.click();
      await requiredCard.getByRole('button', { name: 'Yes, require it' }).click();
      await expect
        .poll(() => requiredCard.getByRole('alert').textContent())
        .toBe(
          'Single sign-on can be required only once the organization has a working identity provider connection and at least one verified domain; otherwise its members would have no way to sign in.',
        );
      expect(await rows(t, 'SELECT require_sso FROM organizations WHERE id = ?', [organizationId])).toEqual([{ require_sso: 0 }]);
      await expect.poll(() => requireSwitch.isChecked()).toBe(false);

      // A free-mail domain is refused in words; nothing is stored.
      await domainsCard.getByLabel('Domain', { exact: true }).fill('gmail.com');
      await domainsCard.getByRole('button', { name: 'Add domain' }).click();
      await expect.poll(() => domainsCard.getByRole('alert').textContent()).toMatch(/^This domain cannot belong to one organization/);
      expect(await rows(t, 'SELECT domain FROM organization_domains', [])).toEqual([]);

      // Added (typed in capitals): its TXT record to publish, name and value, copyable; focus on it.
      await domainsCard.getByLabel('Domain', { exact: true }).fill(` ${domain.toUpperCase()} `);
      await domainsCard.getByRole('button', { name: 'Add domain' }).click();
      await expect
        .poll(() => domainsCard.getByRole('status').textContent())
        .toBe(`${domain} is added. Publish its TXT record, then verify it.`);
      const item = domainsCard.getByRole('listitem').filter({ has: page.getByRole('heading', { name: domain }) });
      await item.getByText('Pending', { exact: true }).waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toContain(domain);
      const [stored] = await rows(t, 'SELECT txt_value, verified_at FROM organization_domains WHERE organization_id = ? AND domain = ?', [
        organizationId,
        domain,
      ]);
      expect(stored).toMatchObject({ verified_at: null });
      const txtName = await item.locator('code').nth(0).textContent();
      const txtValue = await item.locator('code').nth(1).textContent();
      expect(txtName).toBe(`_iam-challenge.${domain}`);
      expect(txtValue).toBe(stored?.txt_value);
      await expectFitsAndAccessible(page, 'single sign-on, a domain pending');
      await page.setViewportSize(desktop);
      await item.getByRole('button', { name: `Copy the record value for ${domain}` }).click();
      await item.getByText('Copied.').waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(txtValue);

      // Verified before the record is published: refused beside the domain, nothing changed.
      await item.getByRole('button', { name: `Verify ${domain}` }).click();
      await expect.poll(() => item.getByRole('alert').textContent()).toMatch(/^The TXT record was not found yet\./);
      expect(await rows(t, 'SELECT verified_domain FROM organization_domains WHERE domain = ?', [domain])).toEqual([
        { verified_domain: null },
      ]);

      // Published in the DNS peer, as the page showed it: verified.
      t.dns.set(txtName ?? '', { txt: ['v=spf1 -all', txtValue ?? ''] });
      await item.getByRole('button', { name: `Verify ${domain}` }).click();
      await expect.poll(() => domainsCard.getByRole('status').textContent()).toBe(`${domain} is verified.`);
      await item.getByText('Verified', { exact: true }).waitFor();
      expect(await item.locator('code').count()).toBe(0);
      expect(await rows(t, 'SELECT organization_id, verified_domain FROM organization_domains WHERE domain = ?', [domain])).toEqual([
        { organization_id: organizationId, verified_domain: domain },
      ]);
      await requiredCard.getByText(`Verified domain: ${domain}.`).waitFor();

      // The connection: a URL that is not one is refused at its field, focus on it, nothing asked or sent.
      await providerCard.getByLabel('Issuer URL').fill('login.example.com');
      await providerCard.getByRole('button', { name: 'Connect' }).click();
      await providerCard.getByText('Enter a full URL that starts with https://, such as https://login.example.com.').waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-sso-issuer');
      expect(await providerCard.getByLabel('Issuer URL').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByRole('dialog').count()).toBe(0);
      await expectFitsAndAccessible(page, 'single sign-on, a field refused');
      await page.setViewportSize(desktop);

      // Connected to the provider, behind the step-up by mail.
      await providerCard.getByLabel('Issuer URL').fill(idp.issuer);
      await providerCard.getByLabel('Client id').fill(idp.clientId);
      await providerCard.getByLabel('Client secret').fill(idp.clientSecret);
      let before = t.mail.messages.length;
      await providerCard.getByRole('button', { name: 'Connect' }).click();
      let dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      expect(await rows(t, 'SELECT id FROM sso_connections', [])).toEqual([]);
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect
        .poll(() => providerCard.getByRole('status').textContent())
        .toBe(`Connected to ${idp.issuer}. Register the redirect URI shown below at your provider.`);
      const connections = await rows(
        t,
        'SELECT id, issuer, client_id, client_secret_sealed, scopes FROM sso_connections WHERE organization_id = ?',
        [organizationId],
      );
      expect(connections).toEqual([
        {
          id: expect.stringMatching(/^ssc_/),
          issuer: idp.issuer,
          client_id: idp.clientId,
          client_secret_sealed: expect.any(String),
          scopes: 'openid email profile',
        },
      ]);
      const sealed = connections[0]?.client_secret_sealed as string;
      expect(sealed).not.toContain(idp.clientSecret);
      // The redirect URI the provider must allow: the connection's provider id under the service's callback route.
      const { connections: listed } = await owner.api.sso.connections.list.query({ organizationId });
      const redirectUri = `${t.url}/oauth/callback/${listed[0]?.providerId}`;
      await providerCard.getByText(redirectUri, { exact: true }).waitFor();
      await providerCard.getByRole('button', { name: 'Copy the redirect URI' }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(redirectUri);
      await providerCard.getByText('Set (never shown)').waitFor();
      expect(await page.content()).not.toContain(idp.clientSecret);

      // Edited: the scopes changed, the secret left empty and so kept; another step-up.
      await providerCard.getByRole('button', { name: 'Edit connection' }).click();
      expect(await providerCard.getByLabel('Client secret').inputValue()).toBe('');
      await providerCard.getByText('Leave empty to keep the current secret. It is never shown again.').waitFor();
      await providerCard.getByLabel('Scopes').fill('openid email');
      before = t.mail.messages.length;
      await providerCard.getByRole('button', { name: 'Save connection' }).click();
      dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect
        .poll(() => providerCard.getByRole('status').textContent())
        .toBe('The connection is saved. Sign-ins use the new settings within seconds.');
      expect(await rows(t, 'SELECT client_secret_sealed, scopes FROM sso_connections WHERE organization_id = ?', [organizationId])).toEqual(
        [{ client_secret_sealed: sealed, scopes: 'openid email' }],
      );

      // Required SSO, now that a connection and a verified domain are there.
      await requiredCard.getByText('An identity provider is connected.').waitFor();
      await requireSwitch.click();
      await requiredCard.getByRole('button', { name: 'Yes, require it' }).click();
      await expect
        .poll(() => requiredCard.getByRole('status').textContent())
        .toBe('Single sign-on is now required: members at the verified domains sign in only through the identity provider.');
      await expect.poll(() => requireSwitch.isChecked()).toBe(true);
      expect(await rows(t, 'SELECT require_sso FROM organizations WHERE id = ?', [organizationId])).toEqual([{ require_sso: 1 }]);
      const audit = await rows(
        t,
        "SELECT JSON_VALUE(data, '$.sso') AS sso FROM audit_events WHERE organization_id = ? AND type = 'org.updated'",
        [organizationId],
      );
      expect(audit.map((row) => row.sso)).toEqual(
        expect.arrayContaining(['domain_added', 'domain_verified', 'connection_created', 'connection_updated', null]),
      );
      // Dana's password is right but no longer a way in: the sign-in page says so and offers the
      // organization's sign-in, which goes to the provider (the redirect URI registered there as the page showed it).
      idp.setRedirectUris([redirectUri]);
      const danaPage = await danaContext.newPage();
      const danaErrors = collectErrors(danaPage, t.url);
      await danaPage.goto(`${t.url}/console/sign-in`);
      await danaPage.getByLabel('Email', { exact: true }).fill(dana.email);
      await danaPage.getByLabel('Password', { exact: true }).fill(dana.password);
      await danaPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect
        .poll(() => danaPage.getByRole('alert').textContent())
        .toBe("Your organization requires you to sign in with its single sign-on. Continue with your organization's sign-in.");
      // No session made (the one is sign-up's), the refusal audited.
      expect(await rows(t, 'SELECT id FROM sessions WHERE user_id = ?', [dana.userId])).toHaveLength(1);
      expect(
        await rows(t, "SELECT JSON_VALUE(data, '$.reason') AS reason FROM audit_events WHERE type = 'login.failed' AND user_id = ?", [
          dana.userId,
        ]),
      ).toEqual([{ reason: 'sso_required' }]);
      await danaPage.getByRole('button', { name: "Continue with your organization's sign-in" }).click();
      await danaPage.waitForURL((url) => url.origin === new URL(idp.issuer).origin);
      expect(danaErrors).toEqual([]);

      // A reload shows it on, as org.get answers it.
      await page.reload();
      await page.getByRole('heading', { name: 'Single sign-on: Acme Research' }).waitFor();
      await expect.poll(() => requireSwitch.isChecked()).toBe(true);

      await expectFitsAndAccessible(page, 'single sign-on');
      await page.setViewportSize(desktop);
      await page.screenshot({ path: '/tmp/console-sso.png', fullPage: true });
      expect(errors).toEqual([]);

      // A member: no single sign-on on the organization's page, and the page itself says who may.
      const memberPage = await memberContext.newPage();
      const memberErrors = collectErrors(memberPage, t.url);
      await signIn(t, memberPage, member);
      await memberPage.goto(`${t.url}/console/organizations/${organizationId}`);
      await memberPage.getByRole('heading', { name: 'Members (3)' }).waitFor();
      expect(await memberPage.getByRole('heading', { name: 'Single sign-on' }).count()).toBe(0);
      expect(await memberPage.getByRole('link', { name: 'Manage single sign-on' }).count()).toBe(0);
      await memberPage.goto(`${t.url}/console/organizations/${organizationId}/sso`);
      await memberPage.getByText('Only the admins and the owner of Acme Research manage its single sign-on.').waitFor();
      expect(await memberPage.getByRole('region', { name: 'Email domains' }).count()).toBe(0);
      expect(
        await memberPage
          .getByRole('button')
          .filter({ hasText: /domain|connect/i })
          .count(),
      ).toBe(0);

      // Made an admin: the domains and the connection, but required SSO is the owner's alone.
      await t.sql.query("UPDATE organization_members SET role = 'admin' WHERE organization_id = ? AND user_id = ?", [
        organizationId,
        member.userId,
      ]);
      await memberPage.reload();
      await memberPage.getByRole('heading', { name: 'Single sign-on: Acme Research' }).waitFor();
      await memberPage.getByRole('region', { name: 'Email domains' }).getByText('Verified', { exact: true }).waitFor();
      await memberPage.getByRole('region', { name: 'Identity provider' }).getByText(redirectUri, { exact: true }).waitFor();
      await memberPage.getByText('Only the owner can change this.').waitFor();
      await memberPage.getByText('Required.', { exact: true }).waitFor();
      expect(await memberPage.getByRole('switch').count()).toBe(0);
      await expectFitsAndAccessible(memberPage, 'single sign-on as an admin');
      expect(memberErrors).toEqual([]);

      // While SSO is required, the page will not delete the connection (the members would have no way in).
      await providerCard.getByRole('button', { name: 'Delete connection…' }).click();
      await providerCard.getByText(/^Single sign-on is required: without the connection/).waitFor();
      expect(await providerCard.getByRole('button', { name: 'Yes, delete' }).count()).toBe(0);
      // Turned off (no confirmation needed to loosen it), then deleted behind a step-up.
      await requireSwitch.click();
      await expect
        .poll(() => requiredCard.getByRole('status').textContent())
        .toBe('Single sign-on is no longer required: members may sign in every way again.');
      expect(await rows(t, 'SELECT require_sso FROM organizations WHERE id = ?', [organizationId])).toEqual([{ require_sso: 0 }]);
      // Required again meanwhile, elsewhere: the delete this page still offers is refused in words,
      // before any step-up, nothing is deleted, and the page learns that it is required.
      await owner.api.org.update.mutate({ organizationId, requireSso: true });
      await providerCard.getByRole('button', { name: 'Yes, delete' }).click();
      await expect
        .poll(() => providerCard.getByRole('alert').textContent())
        .toBe(
          'Single sign-on is required, so this connection is the only way in for the members at the verified domains. Stop requiring single sign-on first, then delete the connection.',
        );
      expect(await page.getByRole('dialog').count()).toBe(0);
      expect(await rows(t, 'SELECT id FROM sso_connections WHERE organization_id = ?', [organizationId])).toHaveLength(1);
      await expect.poll(() => requireSwitch.isChecked()).toBe(true);
      await requireSwitch.click();
      await expect
        .poll(() => rows(t, 'SELECT require_sso FROM organizations WHERE id = ?', [organizationId]))
        .toEqual([{ require_sso: 0 }]);
      await expect.poll(() => requireSwitch.isChecked()).toBe(false);
      await providerCard.getByRole('button', { name: 'Delete connection…' }).click();
      before = t.mail.messages.length;
      await providerCard.getByRole('button', { name: 'Yes, delete' }).click();
      dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await dialog.getByLabel('Confirmation code', { exact: true }).fill(await nextCode(t, owner.email, before));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => providerCard.getByRole('status').textContent()).toBe('The connection is deleted.');
      await providerCard.getByRole('heading', { name: 'Connect a provider' }).waitFor();
      expect(await rows(t, 'SELECT id FROM sso_connections WHERE organization_id = ?', [organizationId])).toEqual([]);
      // The domain removed, after a confirmation.
      await item.getByRole('button', { name: `Remove ${domain}` }).click();
      await item.getByRole('button', { name: 'Yes, remove' }).click();
      await expect.poll(() => domainsCard.getByRole('status').textContent()).toBe(`${domain} is removed.`);
      await domainsCard.getByText('No domains yet.').waitFor();
      expect(await rows(t, 'SELECT domain FROM organization_domains WHERE organization_id = ?', [organizationId])).toEqual([]);

      // A SAML connection, configured through the API, is shown read-only: what the IdP is, what it must be given.
      const samlIdp = await startSamlIdp();
      try {
        const { connection: saml } = await owner.api.sso.connections.create.mutate({
          organizationId,
          type: 'saml',
          idpEntityId: samlIdp.entityId,
          idpSsoUrl: samlIdp.ssoUrl,
          idpCertificates: [samlIdp.certificate],
          stepUpToken: await stepUpByMail(t, owner, 'org_sso'),
        });
        if (saml.type !== 'saml') throw new Error('expected a SAML connection');
        await page.reload();
        await providerCard.getByRole('heading', { name: 'SAML 2.0 connection' }).waitFor();
        await providerCard.getByText(samlIdp.entityId, { exact: true }).waitFor();
        await providerCard.getByText(samlIdp.ssoUrl, { exact: true }).waitFor();
        for (const value of [saml.metadataUrl, saml.spEntityId, saml.acsUrl])
          await providerCard.getByText(value, { exact: true }).first().waitFor();
        expect(saml.metadataUrl.startsWith(`${t.url}/sso/saml/${saml.providerId}`)).toBe(true);
        const certificate = new X509Certificate(samlIdp.certificate);
        await providerCard.getByText(certificate.fingerprint256, { exact: true }).waitFor();
        await providerCard.getByText(/^Expires on /).waitFor();
        expect(await providerCard.getByRole('button', { name: 'Edit connection' }).count()).toBe(0);
        expect(await providerCard.getByLabel('Issuer URL').count()).toBe(0);
        await providerCard.getByRole('button', { name: 'Copy the SP metadata URL' }).click();
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(saml.metadataUrl);
        await expectFitsAndAccessible(page, 'single sign-on, a SAML connection');
      } finally {
        await samlIdp.close();
      }
      expect(errors).toEqual([]);
    } finally {
      await ownerContext.close();
      await memberContext.close();
      await danaContext.close();
    }
  }, 90_000);
});
