import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isLoopbackHost } from '../oauth/config';
import { type SecurityEventType, securityEventTypes } from './events';

/**
 * The `webhooks` section of IAM_CONFIG_FILE and of `IamConfig` in library mode (docs/api.md,
 * webhooks): where security events are POSTed, the secret they are signed with (Standard
 * Webhooks), and which events each endpoint gets. Validated at start-up, so a typo stops the
 * service instead of quietly sending nothing.
 */

/** `whsec_` and the base64 of 24 to 64 random bytes (Standard Webhooks' recommendation). */
const secretPattern = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const secret = z
  .string()
  .regex(secretPattern, 'must be "whsec_" followed by base64 (e.g. whsec_ and 32 random bytes in base64)')
  .refine(
    (value) => {
      const bytes = Buffer.from(value.slice('whsec_'.length), 'base64').length;
      return bytes >= 24 && bytes <= 64;
    },
    { message: 'must hold 24 to 64 bytes after "whsec_" (32 random bytes, base64, is a good choice)' },
  );

const url = z
  .url({ protocol: /^https?$/, message: 'an absolute https URL' })
  .max(2048)
  .superRefine((value, context) => {
    const parsed = new URL(value);
    if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
      context.addIssue({
        code: 'custom',
        message: 'must be https (plain http is allowed for loopback hosts only: 127.0.0.0/8, ::1, localhost)',
      });
    }
    if (parsed.username || parsed.password)
      context.addIssue({ code: 'custom', message: 'must not carry credentials (the signature authenticates)' });
    if (parsed.hash) context.addIssue({ code: 'custom', message: 'must not have a fragment' });
  });

export const webhookEndpointSchema = z.strictObject({
  url,
  secret,
  events: z
    .array(z.enum(securityEventTypes, { message: `one of ${securityEventTypes.join(', ')}` }))
    .min(1, 'name at least one event')
    .max(securityEventTypes.length * 2),
});

export const webhooksConfigSchema = z
  .array(webhookEndpointSchema)
  .max(20)
  .superRefine((endpoints, context) => {
    const seen = new Set<string>();
    endpoints.forEach((endpoint, index) => {
      const href = URL.canParse(endpoint.url) ? new URL(endpoint.url).href : endpoint.url;
      if (seen.has(href))
        context.addIssue({
          code: 'custom',
          path: [index, 'url'],
          message: 'is listed twice (one entry per URL, with every event it takes)',
        });
      seen.add(href);
    });
  });

/** One endpoint as it is written in the configuration. */
export type WebhookEndpointConfig = z.input<typeof webhookEndpointSchema>;

/** One endpoint, validated. */
export interface WebhookEndpoint {
  /** Stable while the URL stays: a hash of it, the first part of the messages' ordering key (not the index, so reordering the list keeps order). */
  id: string;
  url: string;
  /** `whsec_…`, as configured; only ever in memory, never in the outbox. */
  secret: string;
  events: ReadonlySet<SecurityEventType>;
}

/** The configured endpoints, handed to the flows that emit events and to the outbox worker. */
export interface Webhooks {
  endpoints: readonly WebhookEndpoint[];
}

export function webhookEndpointId(href: string): string {
  return `wh${createHash('sha256').update(href).digest('hex').slice(0, 16)}`;
}

/** Validates the endpoints (none by default); throws one error naming every problem. */
export function parseWebhooksConfig(config: unknown): Webhooks {
  const parsed = webhooksConfigSchema.safeParse(config ?? []);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  webhooks.${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`The webhooks configuration is not valid:\n${problems}`);
  }
  return {
    endpoints: parsed.data.map((endpoint) => {
      const href = new URL(endpoint.url).href;
      return { id: webhookEndpointId(href), url: href, secret: endpoint.secret, events: new Set(endpoint.events) };
    }),
  };
}
