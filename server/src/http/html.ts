import type { Response } from 'express';

/** Text made safe for HTML element content and quoted attribute values (OWASP XSS prevention, rule 1 and 2). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const style =
  'body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}' +
  'button{font-size:1rem;padding:.6rem 1.2rem;margin-top:1rem}input{font-size:1rem;padding:.4rem;width:100%}';

export interface HtmlPage {
  status: number;
  /** Plain text: escaped here. */
  title: string;
  /** Markup the caller built, every interpolated value already escaped. */
  bodyHtml: string;
  /** The page holds a form that posts back to this origin. */
  postsForm?: boolean;
  /** CSS of this page, after the shell's (a constant of the service, never request data). */
  style?: string;
}

/**
 * The one page shell of the service's own HTML (link pages, the OAuth callback): no script,
 * a strict CSP (OWASP ASVS 4.0 V14.4.3), never cached, no referrer leaving the page with a
 * token in its URL.
 */
export function sendHtmlPage(res: Response, page: HtmlPage): void {
  const formAction = page.postsForm ? " form-action 'self';" : '';
  res
    .status(page.status)
    .setHeader(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'unsafe-inline';${formAction} frame-ancestors 'none'; base-uri 'none'`,
    )
    .setHeader('Cache-Control', 'no-store')
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${escapeHtml(page.title)}</title>` +
        `<style>${style}${page.style ?? ''}</style></head><body><h1>${escapeHtml(page.title)}</h1>${page.bodyHtml}</body></html>`,
    );
}
