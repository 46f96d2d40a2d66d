import { describe, expect, it } from 'vitest';
import { sortableOutboxId } from '../outbox/outbox';
import { parseWebhooksConfig } from './config';

const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('webhooks configuration', () => {
  it('takes https endpoints, and plain http on loopback hosts only', () => {
    const { endpoints } = parseWebhooksConfig([
      { url: 'https://hooks.example.com/iam', secret, events: ['user.created', 'session.revoked'] },
      { url: 'http://127.0.0.1:8080/hooks', secret, events: ['password.changed'] },
      { url: 'http://[::1]:8080/hooks', secret, events: ['password.changed'] },
      { url: 'http://localhost/hooks', secret, events: ['mfa.changed'] },
    ]);
    expect(endpoints.map((endpoint) => endpoint.url)).toEqual([
      'https://hooks.example.com/iam',
      'http://127.0.0.1:8080/hooks',
      'http://[::1]:8080/hooks',
      'http://localhost/hooks',
    ]);
    expect([...(endpoints[0]?.events ?? [])]).toEqual(['user.created', 'session.revoked']);
    expect(() => parseWebhooksConfig([{ url: 'http://10.0.0.1/hooks', secret, events: ['user.created'] }])).toThrow(
      /webhooks\.0\.url: must be https/,
    );
    expect(() => parseWebhooksConfig([{ url: 'https://user:pw@hooks.example.com/', secret, events: ['user.created'] }])).toThrow(
      /must not carry credentials/,
    );
    expect(() => parseWebhooksConfig([{ url: 'https://hooks.example.com/', secret, events: ['user.created'], extra: 1 }])).toThrow(
      /webhooks\.0/,
    );
    expect(parseWebhooksConfig(undefined).endpoints).toEqual([]);
  });

  it("an endpoint's id follows its URL, not its place in the list", () => {
    const a = { url: 'https://a.example.com/hooks', secret, events: ['user.created' as const] };
    const b = { url: 'https://b.example.com/hooks', secret, events: ['user.created' as const] };
    const first = parseWebhooksConfig([a, b]).endpoints.map((endpoint) => endpoint.id);
    const second = parseWebhooksConfig([b, a]).endpoints.map((endpoint) => endpoint.id);
    expect(first).toEqual([...second].reverse());
    expect(first[0]).toMatch(/^wh[0-9a-f]{16}$/);
    expect(first[0]).not.toBe(first[1]);
  });
});

describe('outbox ids of webhook rows', () => {
  it('sort in the order they were made, within one millisecond and when the clock goes back', () => {
    const now = new Date();
    const ids = [
      sortableOutboxId(now),
      sortableOutboxId(now),
      sortableOutboxId(now),
      sortableOutboxId(new Date(now.getTime() - 5_000)),
      sortableOutboxId(new Date(now.getTime() + 1)),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^obx_[0-9a-z]{26}$/);
  });
});
