import { Webhook } from 'standardwebhooks';
import type { Executor } from '../../db/client';
import type { Clock } from '../clock';
import { enqueueWebhook, type WebhookSender } from '../outbox/outbox';
import type { Webhooks } from './config';
import type { SecurityEvent } from './events';

export { parseWebhooksConfig, type WebhookEndpoint, type WebhookEndpointConfig, type Webhooks } from './config';
export { type SecurityEvent, type SecurityEventData, type SecurityEventType, securityEventTypes } from './events';

/**
 * Security-event webhooks (docs/api.md, webhooks): an event is a row of the durable outbox for
 * each endpoint that takes it, written in the transaction of the change, so it exists exactly
 * when the change does, and delivered at least once, in order per user and endpoint, signed as
 * Standard Webhooks say, retried with backoff for 3 days, across restarts and instances.
 */

/** What emitting needs: the endpoints, and the outbox worker to wake (the `Services` bag has both). */
export interface SecurityEventDeps {
  webhooks: Webhooks;
  outbox: { nudge(): void };
}

/**
 * Queues a security event for every endpoint subscribed to its type, in the caller's
 * transaction (`tx`), as of `now`: nothing is sent unless that transaction commits, and
 * nothing happens at all when no endpoint takes the type. Its data gets the `userId`.
 *
 *     await emitSecurityEvent(services, tx, { type: 'user.disabled', userId, data: { reason } }, services.clock.now());
 */
export async function emitSecurityEvent(deps: SecurityEventDeps, tx: Executor, event: SecurityEvent, now: Date): Promise<void> {
  const endpointIds = deps.webhooks.endpoints.filter((endpoint) => endpoint.events.has(event.type)).map((endpoint) => endpoint.id);
  if (endpointIds.length === 0) return;
  await enqueueWebhook(tx, { endpointIds, userId: event.userId, type: event.type, data: { userId: event.userId, ...event.data } }, now);
  // After the caller's commit, most of the time; the worker's poll delivers it otherwise.
  setTimeout(() => deps.outbox.nudge(), 50).unref();
}

/** A receiver gets this long to answer; past it the try counts as failed. */
export const webhookTimeoutInMs = 10_000;

/**
 * POSTs a queued event to its endpoint: the body `{ type, timestamp, data }`, the headers
 * `webhook-id` (the outbox row id: the same on every retry, for the receiver to dedupe on),
 * `webhook-timestamp` (this try, in seconds) and `webhook-signature` (`v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body` with the secret's bytes). A 2xx answer delivers it;
 * anything else, a redirect included (never followed), a network error or no answer within
 * the timeout is a failed try the outbox retries.
 */
export function createWebhookSender(deps: { webhooks: Webhooks; clock: Clock; timeoutInMs?: number }): WebhookSender {
  const timeoutInMs = deps.timeoutInMs ?? webhookTimeoutInMs;
  const endpoints = new Map(
    deps.webhooks.endpoints.map((endpoint) => [endpoint.id, { url: endpoint.url, signer: new Webhook(endpoint.secret) }]),
  );
  return async ({ id, payload }) => {
    const endpoint = endpoints.get(payload.endpoint);
    // Kept for its retries: the endpoint may come back into the configuration.
    if (!endpoint) throw new Error('the endpoint is no longer configured');
    const body = JSON.stringify({ type: payload.type, timestamp: payload.timestamp, data: payload.data });
    const sentAt = deps.clock.now();
    let response: Response;
    try {
      response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'iam-webhooks/1',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': endpoint.signer.sign(id, sentAt, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutInMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new Error(timedOut ? `no answer within ${timeoutInMs} ms` : 'the receiver could not be reached', {
        cause: timedOut ? undefined : error instanceof Error && error.cause instanceof Error ? error.cause : error,
      });
    }
    // The answer's body is not read: only its status counts.
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new Error(`the receiver answered ${response.status}`);
  };
}
