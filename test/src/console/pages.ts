import AxeBuilder from '@axe-core/playwright';
import type { RowDataPacket } from 'mysql2';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { codeFrom, type TestServer } from '../harness/server';

// What the console suites share: the widths every page is checked at, the accessibility and
// layout checks, the console's own sign-in, and the codes the mail peer receives.

export const phone = { width: 375, height: 740 };
export const desktop = { width: 1280, height: 800 };

/** Serious or critical accessibility violations on the page as it is now (axe-core). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}

/** The page as it is now, at a phone's width and a desktop's: no serious violation, no sideways scrolling. */
export async function expectFitsAndAccessible(page: Page, name = 'the page'): Promise<void> {
  for (const viewport of [phone, desktop]) {
    await page.setViewportSize(viewport);
    expect(await seriousViolations(page), `${name} at ${viewport.width} px`).toEqual([]);
    // Polled: charts and tables follow the width once the browser reports the resize.
    await expect
      .poll(() => page.evaluate(() => document.documentElement.scrollWidth), { message: `${name} at ${viewport.width} px` })
      .toBeLessThanOrEqual(viewport.width);
    if (process.env.CONSOLE_SHOTS)
      await page.screenshot({ path: `${process.env.CONSOLE_SHOTS}/${name.replace(/\W+/g, '-')}-${viewport.width}.png`, fullPage: true });
  }
}

/**
 * What the page logs as an error, CSP violations included. Refused calls' status lines are
 * not: signed out, resuming a session is answered 401; a sensitive change first tried without
 * a step-up is answered 403 (`STEP_UP_REQUIRED`), which is what opens the step-up dialog.
 */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 40[13]/.test(message.text()))
      errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** The code of the next sign-in or step-up mail to `email`, sent after `before` mails. */
export async function nextCode(t: TestServer, email: string, before: number): Promise<string> {
  const message = await t.mail.waitFor(
    (candidate) => t.mail.messages.indexOf(candidate) >= before && candidate.to.includes(email) && candidate.tags.template === 'login_code',
  );
  return codeFrom(message);
}

/** Signs in on the page; a browser the account has never used is asked for the mailed code. */
export async function signIn(t: TestServer, page: Page, user: { email: string; password: string }): Promise<void> {
  const before = t.mail.messages.length;
  await page.goto(`${t.url}/console/sign-in`);
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const account = page.getByRole('heading', { name: 'Your account' });
  const challenge = page.getByRole('heading', { name: 'Confirm it is you' });
  await account.or(challenge).waitFor();
  if (await challenge.isVisible()) {
    await page.getByLabel('Code', { exact: true }).fill(await nextCode(t, user.email, before));
    await page.getByRole('button', { name: 'Continue' }).click();
    await account.waitFor();
  }
}

export async function rows(t: TestServer, query: string, values: unknown[]): Promise<RowDataPacket[]> {
  const [result] = await t.sql.query<RowDataPacket[]>(query, values);
  return result;
}
