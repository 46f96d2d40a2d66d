import { describe, expect, it } from 'vitest';
import { type EmailMessage, emailTemplates, previewEmails, renderEmail } from './index';

const hostile = '<script>alert(1)</script>';

/** The codes, links and details a message carries: each must reach the reader in both bodies. */
function essentials({ props }: EmailMessage): string[] {
  const values: (string | undefined)[] = [];
  if ('code' in props) values.push(props.code);
  if ('link' in props) values.push(props.link);
  if ('signInLink' in props) values.push(props.signInLink, props.resetLink);
  if ('notMeLink' in props) values.push(props.notMeLink);
  if ('newEmailMasked' in props) values.push(props.newEmailMasked);
  if ('device' in props) values.push(props.device);
  if ('location' in props) values.push(props.location);
  if ('ip' in props) values.push(props.ip);
  return values.filter((value): value is string => value !== undefined);
}

// React escapes `&` in attribute values; the links are otherwise unchanged.
const inHtml = (value: string) => value.replaceAll('&', '&amp;');

describe('renderEmail', () => {
  it('has preview props for every template', () => {
    expect(previewEmails().map((email) => email.template)).toEqual(emailTemplates);
  });

  for (const email of previewEmails()) {
    it(`renders ${email.template} with a subject and its codes, links and details in HTML and text`, async () => {
      const rendered = await renderEmail(email);
      expect(rendered.subject.trim()).not.toBe('');
      expect(rendered.html).toMatch(/^<!DOCTYPE html/);
      const values = essentials(email);
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) {
        expect(rendered.html).toContain(inHtml(value));
        expect(rendered.text).toContain(value);
      }
    });
  }

  it('puts the code in the subject of verification and sign-in codes', async () => {
    for (const email of previewEmails()) {
      if (email.template !== 'verify_email' && email.template !== 'login_code') continue;
      expect((await renderEmail(email)).subject).toContain(email.props.code);
    }
  });

  it('uses the product name given, and IAM by default', async () => {
    const props = { link: 'https://iam.example.com/r', expiresInMinutes: 30 };
    expect((await renderEmail({ template: 'password_reset', props })).subject).toBe('Reset your IAM password');
    const named = await renderEmail({ template: 'password_reset', props: { ...props, productName: 'Acme' } });
    expect(named.subject).toBe('Reset your Acme password');
    expect(named.text).toContain('Acme');
  });

  it('escapes markup in user-controlled values', async () => {
    const time = new Date('2025-01-15T09:30:00Z');
    const messages: EmailMessage[] = [
      {
        template: 'new_sign_in',
        props: { time, device: hostile, location: hostile, ip: hostile, notMeLink: 'https://x.test/n' },
      },
      { template: 'security_alert', props: { reason: 'anomaly', time, device: hostile, reasons: [hostile] } },
      {
        template: 'login_code',
        props: {
          code: '123456',
          link: 'https://x.test/l',
          expiresInMinutes: 5,
          time,
          device: hostile,
          reasons: [hostile],
        },
      },
      { template: 'password_changed', props: { time, device: hostile, location: hostile } },
      { template: 'email_change_old', props: { time, newEmailMasked: hostile } },
    ];
    for (const message of messages) {
      const { html } = await renderEmail(message);
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('omits detail lines that are not given', async () => {
    const { text } = await renderEmail({
      template: 'password_changed',
      props: { time: new Date('2025-01-15T09:30:00Z') },
    });
    expect(text).toContain('15 January 2025 at 09:30:00 UTC');
    expect(text).not.toContain('Device:');
    expect(text).not.toContain('Location:');
  });
});
