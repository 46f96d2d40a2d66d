import sanitizeHtml from 'sanitize-html';
import type { z } from 'zod';

/** The issue parameter that marks a markup probe, so the error mapping can count a strike. */
export const markupIssue = { iamCode: 'XSS_DETECTED' } as const;

/** True when the text holds any HTML element, comment or processing instruction. */
export function containsMarkup(value: string): boolean {
  let found = false;
  sanitizeHtml(value, {
    allowedTags: [],
    allowedAttributes: {},
    onOpenTag: () => {
      found = true;
    },
  });
  return found || /<!--|<\?|<!\[CDATA\[/i.test(value);
}

/**
 * A free-text field that refuses markup rather than silently stripping it (OWASP ASVS 4.0
 * V5.2.1): the caller learns why, and the probe counts as a strike against its IP.
 */
export function safeText<T extends z.ZodType<string, unknown>>(schema: T): T {
  return schema.superRefine((value, ctx) => {
    if (containsMarkup(value)) ctx.addIssue({ code: 'custom', message: 'Markup is not allowed in this field.', params: markupIssue });
  }) as unknown as T;
}
