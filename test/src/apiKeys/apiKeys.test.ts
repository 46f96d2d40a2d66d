import { createHash, randomBytes } from 'node:crypto';
import { createBffClient } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { hmacKeys, introspectOnlyKey, mainKey, postSigned, type TestKey } from '../bff/signed';
import { bearer, errorOf, post, refusalOf, resultOf } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';

/** A product's backend, signing with an HMAC key on the service's (movable) clock. */
function product(t: TestServer, key: TestKey = mainKey) {
  return createBffClient({ url: t.trpcUrl, keyId: key.id, secret: key.secret, now: () => t.clock.now().getTime() });
}

/** bff.verifyApiKey as a signed call, and iam.verifyApiKey in the same process: both must answer the same. */
async function verifyBoth(t: TestServer, key: string, scopes?: string[]) {
  const signed = await product(t).bff.verifyApiKey.mutate({ key, ...(scopes ? { scopes } : {}) });
  const inProcess = await t.iam.verifyApiKey(key, scopes);
  expect(inProcess).toEqual(signed);
  return signed;
}

async function rowsOf(t: TestServer, sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  return (await t.sql.query<RowDataPacket[]>(sql, params))[0];
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('apiKeys', () => {
  it('create shows the key once (iam_…, 256 bits), keeps only its hash, and list shows the prefix, never the key', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();

    const created = await user.api.apiKeys.create.mutate({
      name: ' CI deploy ',
      scopes: ['reports:read', 'deploy:write', 'reports:read'],
      expiresInDays: 30,
    });
    expect(created.id).toMatch(/^apk_[a-z0-9]+$/);
    expect(created.key).toMatch(/^iam_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(created.key.slice(4), 'base64url')).toHaveLength(32);
    const secretPart = created.key.slice(12);

    // The database holds the SHA-256 and the display prefix, and nothing else of the key.
    const [row] = await rowsOf(t, 'SELECT * FROM api_keys WHERE id = ?', [created.id]);
    expect(row).toMatchObject({
      user_id: user.userId,
      name: 'CI deploy',
      prefix: created.key.slice(0, 12),
      key_hash: sha256(created.key),
      last_used_at: null,
      revoked_at: null,
    });
    expect(JSON.stringify(row)).not.toContain(secretPart);
    const everything = JSON.stringify(await rowsOf(t, 'SELECT * FROM api_keys'));
    expect(everything).not.toContain(created.key);
    const audit = await rowsOf(t, 'SELECT type, data FROM audit_events WHERE user_id = ? AND type LIKE ?', [user.userId, 'api_key.%']);
    expect(audit.map((event) => event.type)).toEqual(['api_key.created']);
    expect(JSON.stringify(audit)).not.toContain(secretPart);

    // list: the prefix, never the key or its hash; scopes deduplicated and sorted.
    const listed = await user.api.apiKeys.list.query();
    expect(listed).toEqual([
      {
        id: created.id,
        name: 'CI deploy',
        prefix: created.key.slice(0, 12),
        scopes: ['deploy:write', 'reports:read'],
        createdAt: expect.any(Date),
        lastUsedAt: null,
        expiresAt: expect.any(Date),
      },
    ]);
    const expiresInMs = (listed[0]?.expiresAt?.getTime() ?? 0) - t.clock.now().getTime();
    expect(expiresInMs).toBeGreaterThan(30 * 86_400_000 - 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(30 * 86_400_000);
    expect(JSON.stringify(listed)).not.toContain(secretPart);
    expect(JSON.stringify(listed)).not.toContain(sha256(created.key));

    // Keys without expiry, and another user's list does not show mine.
    const forever = await user.api.apiKeys.create.mutate({ name: 'nightly export', scopes: [] });
    expect((await user.api.apiKeys.list.query()).map((key) => [key.id, key.expiresAt])).toEqual([
      [forever.id, null],
      [created.id, expect.any(Date)],
    ]);
    const other = await t.signUp();
    expect(await other.api.apiKeys.list.query()).toEqual([]);

    // Inputs out of bounds, markup, and no Bearer token.
    const bad = [
      { name: '', scopes: [] },
      { name: 'x'.repeat(101), scopes: [] },
      { name: 'ok', scopes: ['Reports'] },
      { name: 'ok', scopes: ['1read'] },
      { name: 'ok', scopes: Array.from({ length: 21 }, (_, i) => `scope${i}`) },
      { name: 'ok', scopes: [], expiresInDays: 0 },
      { name: 'ok', scopes: [], expiresInDays: 3651 },
      { name: 'ok', scopes: [], expiresInDays: 1.5 },
    ];
    for (const input of bad) expect(await refusalOf(user.api.apiKeys.create.mutate(input)), JSON.stringify(input)).toBe('INVALID_INPUT');
    expect(await refusalOf(user.api.apiKeys.create.mutate({ name: '<img src=x onerror=alert(1)>', scopes: [] }))).toMatch(
      /^(INVALID_INPUT|XSS_DETECTED)$/,
    );
    expect(await refusalOf(t.client().api.apiKeys.create.mutate({ name: 'ok', scopes: [] }))).toBe('UNAUTHENTICATED');
    expect(await refusalOf(t.client().api.apiKeys.list.query())).toBe('UNAUTHENTICATED');
    expect(await rowsOf(t, 'SELECT id FROM api_keys WHERE user_id = ?', [user.userId])).toHaveLength(2);
  });

  it('verifies by signed bff.verifyApiKey and by iam.verifyApiKey: valid with its scopes, scope, revoked, expired, unknown', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const reports = await user.api.apiKeys.create.mutate({ name: 'reports', scopes: ['reports:read', 'reports:write'], expiresInDays: 1 });
    const toRevoke = await user.api.apiKeys.create.mutate({ name: 'old laptop', scopes: ['reports:read'] });
    const forever = await user.api.apiKeys.create.mutate({ name: 'forever', scopes: [] });

    const valid = { valid: true, keyId: reports.id, userId: user.userId, scopes: ['reports:read', 'reports:write'] };
    expect(await verifyBoth(t, reports.key)).toEqual(valid);
    expect(await verifyBoth(t, reports.key, ['reports:read'])).toEqual(valid);
    expect(await verifyBoth(t, reports.key, ['reports:read', 'reports:write'])).toEqual(valid);
    expect(await verifyBoth(t, reports.key, ['reports:read', 'billing:read'])).toEqual({ valid: false, reason: 'scope' });
    expect(await verifyBoth(t, forever.key, ['reports:read'])).toEqual({ valid: false, reason: 'scope' });

    // Raw signed request, as a product in another language would send it.
    const raw = await postSigned(t, '/trpc/bff.verifyApiKey', { key: reports.key, scopes: ['reports:write'] });
    expect(resultOf(raw)).toEqual(valid);
    // HMAC-guarded: a Bearer token is not enough, and a key limited to bff.introspect may not call it.
    const unsigned = await post(t.trpcUrl, 'bff.verifyApiKey', JSON.stringify({ json: { key: reports.key } }), bearer(user.accessToken));
    expect(unsigned.status).toBe(401);
    expect(errorOf(unsigned).iamCode).toBe('HMAC_INVALID');
    expect(await refusalOf(product(t, introspectOnlyKey).bff.verifyApiKey.mutate({ key: reports.key }))).toBe('HMAC_INVALID');
    // In the same process, as a trusted service.
    expect(await t.iam.createCaller({ service: { keyId: 'in-process' } }).bff.verifyApiKey({ key: reports.key })).toEqual(valid);

    // Unknown: garbage, a well-formed key never issued, a key one character off.
    const neverIssued = `iam_${randomBytes(32).toString('base64url')}`;
    const oneOff = `${reports.key.slice(0, -1)}${reports.key.endsWith('A') ? 'B' : 'A'}`;
    for (const key of ['', 'garbage', 'iam_', neverIssued, oneOff, reports.key.toUpperCase(), ` ${reports.key}`, sha256(reports.key)]) {
      expect(await verifyBoth(t, key), key).toEqual({ valid: false, reason: 'unknown' });
    }
    expect(await refusalOf(product(t).bff.verifyApiKey.mutate({ key: 'x'.repeat(257) }))).toBe('INVALID_INPUT');
    expect(await refusalOf(product(t).bff.verifyApiKey.mutate({ key: reports.key, scopes: ['NOT A SCOPE'] }))).toBe('INVALID_INPUT');

    // Revoked: at once, gone from the list, audited; revoking again changes nothing.
    expect(await verifyBoth(t, toRevoke.key)).toMatchObject({ valid: true });
    expect(await user.api.apiKeys.revoke.mutate({ id: toRevoke.id })).toEqual({ status: 'revoked' });
    expect(await verifyBoth(t, toRevoke.key)).toEqual({ valid: false, reason: 'revoked' });
    expect(await verifyBoth(t, toRevoke.key, ['reports:read'])).toEqual({ valid: false, reason: 'revoked' });
    expect((await user.api.apiKeys.list.query()).map((key) => key.id)).not.toContain(toRevoke.id);
    expect(await user.api.apiKeys.revoke.mutate({ id: toRevoke.id })).toEqual({ status: 'revoked' });
    expect(await rowsOf(t, 'SELECT type FROM audit_events WHERE user_id = ? AND type = ?', [user.userId, 'api_key.revoked'])).toHaveLength(
      1,
    );

    // Expired: a day later (the key without expiry still works).
    t.clock.advance(24 * 3600 - 5);
    expect(await verifyBoth(t, reports.key)).toMatchObject({ valid: true });
    t.clock.advance(10);
    expect(await verifyBoth(t, reports.key)).toEqual({ valid: false, reason: 'expired' });
    expect(await verifyBoth(t, reports.key, ['billing:read'])).toEqual({ valid: false, reason: 'expired' });
    expect(await verifyBoth(t, forever.key)).toEqual({ valid: true, keyId: forever.id, userId: user.userId, scopes: [] });
  });

  it('another user cannot revoke my key (NOT_FOUND), nor an unknown one, and my key keeps working', async () => {
    await using t = await createTestServer({ hmacKeys });
    const me = await t.signUp();
    const other = await t.signUp();
    const mine = await me.api.apiKeys.create.mutate({ name: 'mine', scopes: ['a'] });

    expect(await refusalOf(other.api.apiKeys.revoke.mutate({ id: mine.id }))).toBe('NOT_FOUND');
    expect(await refusalOf(me.api.apiKeys.revoke.mutate({ id: 'apk_aaaaaaaaaaaaaaaaaaaaaaaaaa' }))).toBe('NOT_FOUND');
    expect(await refusalOf(me.api.apiKeys.revoke.mutate({ id: 'not an id' }))).toBe('INVALID_INPUT');
    expect(await refusalOf(t.client().api.apiKeys.revoke.mutate({ id: mine.id }))).toBe('UNAUTHENTICATED');
    expect(await verifyBoth(t, mine.key)).toMatchObject({ valid: true, userId: me.userId });
    expect(await rowsOf(t, 'SELECT revoked_at FROM api_keys WHERE id = ?', [mine.id])).toEqual([
      expect.objectContaining({ revoked_at: null }),
    ]);
  });

  it("a disabled user's keys are refused at once (revoked), and work again once the user is enabled", async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const key = await user.api.apiKeys.create.mutate({ name: 'script', scopes: ['x'] });
    expect(await verifyBoth(t, key.key)).toMatchObject({ valid: true });

    await t.sql.query('UPDATE users SET disabled_at = ?, disabled_reason = ? WHERE id = ?', [t.clock.now(), 'test', user.userId]);
    expect(await verifyBoth(t, key.key)).toEqual({ valid: false, reason: 'revoked' });
    expect(await verifyBoth(t, key.key, ['x'])).toEqual({ valid: false, reason: 'revoked' });
    // No new key for a disabled account (its access token was not revoked here; the row is read).
    expect(await refusalOf(user.api.apiKeys.create.mutate({ name: 'another', scopes: [] }))).toBe('USER_DISABLED');

    await t.sql.query('UPDATE users SET disabled_at = NULL, disabled_reason = NULL WHERE id = ?', [user.userId]);
    expect(await verifyBoth(t, key.key)).toMatchObject({ valid: true });
  });

  it("a deleted account's keys are erased with it and refused at once", async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const bystander = await t.signUp();
    const key = await user.api.apiKeys.create.mutate({ name: 'script', scopes: ['x'] });
    const theirs = await bystander.api.apiKeys.create.mutate({ name: 'theirs', scopes: ['x'] });
    expect(await verifyBoth(t, key.key)).toMatchObject({ valid: true });

    expect(await user.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, user, 'account_delete') })).toEqual({
      status: 'deleted',
    });
    // The row went with the account (GDPR art. 17), so the key is no longer one the service issued.
    expect(await rowsOf(t, 'SELECT id FROM api_keys WHERE user_id = ?', [user.userId])).toHaveLength(0);
    expect(await verifyBoth(t, key.key)).toEqual({ valid: false, reason: 'unknown' });
    expect(await verifyBoth(t, theirs.key)).toMatchObject({ valid: true, userId: bystander.userId });
  });

  it('lastUsedAt is written at most once a minute per key', async () => {
    await using t = await createTestServer({ hmacKeys });
    const user = await t.signUp();
    const key = await user.api.apiKeys.create.mutate({ name: 'busy script', scopes: ['x'] });
    const lastUsed = async () => {
      const [row] = await rowsOf(t, 'SELECT last_used_at FROM api_keys WHERE id = ?', [key.id]);
      return (row?.last_used_at as Date | null) ?? null;
    };
    expect(await lastUsed()).toBeNull();

    const first = t.clock.now().getTime();
    await verifyBoth(t, key.key);
    const written = await lastUsed();
    expect(written?.getTime()).toBeGreaterThanOrEqual(first);

    // Within the minute: more verifications (a scope refusal is a use too), no new write.
    t.clock.advance(30);
    await verifyBoth(t, key.key);
    await verifyBoth(t, key.key, ['y']);
    expect((await lastUsed())?.getTime()).toBe(written?.getTime());

    // 61 s after the write: written again, and the list shows it.
    t.clock.advance(31);
    const second = t.clock.now().getTime();
    await verifyBoth(t, key.key);
    const rewritten = await lastUsed();
    expect(rewritten?.getTime()).toBeGreaterThanOrEqual(second);
    expect(rewritten?.getTime()).toBeGreaterThanOrEqual((written?.getTime() ?? 0) + 61_000);
    expect((await user.api.apiKeys.list.query())[0]?.lastUsedAt?.getTime()).toBe(rewritten?.getTime());

    // A refused key (revoked) is not a use.
    await user.api.apiKeys.revoke.mutate({ id: key.id });
    t.clock.advance(120);
    await verifyBoth(t, key.key);
    expect((await lastUsed())?.getTime()).toBe(rewritten?.getTime());
  });

  it('verifications are limited per key (by its hash, never the key): past the limit RATE_LIMITED, other keys unaffected', async () => {
    await using t = await createTestServer({
      hmacKeys,
      rateLimits: { apiKeyVerificationsPerKey: { points: 3, durationInSeconds: 60 } },
    });
    const user = await t.signUp();
    const busy = await user.api.apiKeys.create.mutate({ name: 'busy', scopes: [] });
    const quiet = await user.api.apiKeys.create.mutate({ name: 'quiet', scopes: [] });
    const bff = product(t);

    expect(await bff.bff.verifyApiKey.mutate({ key: busy.key })).toMatchObject({ valid: true });
    expect(await t.iam.verifyApiKey(busy.key)).toMatchObject({ valid: true });
    expect(await bff.bff.verifyApiKey.mutate({ key: busy.key, scopes: ['nope'] })).toEqual({ valid: false, reason: 'scope' });
    // The fourth, by either way in.
    expect(await refusalOf(bff.bff.verifyApiKey.mutate({ key: busy.key }))).toBe('RATE_LIMITED');
    expect(await refusalOf(t.iam.verifyApiKey(busy.key))).toBe('RATE_LIMITED');
    const raw = await postSigned(t, '/trpc/bff.verifyApiKey', { key: busy.key });
    expect(raw.status).toBe(429);
    expect(errorOf(raw)).toMatchObject({ iamCode: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });

    // Another key has its own budget.
    expect(await bff.bff.verifyApiKey.mutate({ key: quiet.key })).toMatchObject({ valid: true });
    // The store never holds the key itself.
    expect(JSON.stringify(await rowsOf(t, 'SELECT * FROM rate_limits'))).not.toContain(busy.key.slice(12));

    // (The window runs on the limiter store's own clock, not the test clock, so it is not moved here.)
  });

  it('caps live keys per user with API_KEY_LIMIT_REACHED; a revoked or expired key frees a place', async () => {
    await using t = await createTestServer({ hmacKeys, rateLimits: { apiKeyChangesPerUser: { points: 1_000 } } });
    const user = await t.signUp();
    const first = await user.api.apiKeys.create.mutate({ name: 'key 0', scopes: [], expiresInDays: 1 });
    for (let i = 1; i < 50; i++) await user.api.apiKeys.create.mutate({ name: `key ${i}`, scopes: [] });
    expect(await refusalOf(user.api.apiKeys.create.mutate({ name: 'one too many', scopes: [] }))).toBe('API_KEY_LIMIT_REACHED');

    const victim = (await user.api.apiKeys.list.query()).find((key) => key.name === 'key 7');
    await user.api.apiKeys.revoke.mutate({ id: victim?.id ?? '' });
    await user.api.apiKeys.create.mutate({ name: 'in its place', scopes: [] });
    expect(await refusalOf(user.api.apiKeys.create.mutate({ name: 'one too many', scopes: [] }))).toBe('API_KEY_LIMIT_REACHED');

    // The first key expires: live keys are 49 again. Another user is not affected by mine.
    t.clock.advance(24 * 3600 + 1);
    const refreshed = await t.signInOn(t.client({ deviceOf: user.jar }), user);
    expect(await verifyBoth(t, first.key)).toEqual({ valid: false, reason: 'expired' });
    await refreshed.api.apiKeys.create.mutate({ name: 'after expiry', scopes: [] });
    expect(await refusalOf(refreshed.api.apiKeys.create.mutate({ name: 'one too many', scopes: [] }))).toBe('API_KEY_LIMIT_REACHED');
    expect(await (await t.signUp()).api.apiKeys.create.mutate({ name: 'other user', scopes: [] })).toMatchObject({
      id: expect.any(String),
    });
  });
});
