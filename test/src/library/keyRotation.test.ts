import { type Clock, createIamServer, createLogger } from '@iam/server';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { send } from '../harness/http';
import { authenticated, createTestServer } from '../harness/server';

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('signing-key rotation', () => {
  it('publishes the new key before it signs, keeps old tokens valid until they expire, then drops the old key', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const oldKid = kidOf(user.accessToken);
    const jwks = async () =>
      ((await send(`${t.url}/.well-known/jwks.json`)).body as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);

    const rotation = await t.iam.services.keys.rotate({ accessTokenTtlInSeconds: 900 });
    expect(await jwks()).toEqual(expect.arrayContaining([oldKid, rotation.kid]));
    // Until verifiers can have fetched the new key, tokens are still signed with the old one.
    expect(kidOf(authenticated(await user.api.session.refresh.mutate()).accessToken)).toBe(oldKid);

    t.clock.advance(301);
    const fresh = authenticated(await user.api.session.refresh.mutate());
    expect(kidOf(fresh.accessToken)).toBe(rotation.kid);
    const keySet = createLocalJWKSet((await send(`${t.url}/.well-known/jwks.json`)).body as { keys: [] });
    await expect(jwtVerify(fresh.accessToken, keySet, { currentDate: t.clock.now() })).resolves.toBeTruthy();
    // A token of the old key still works while it lives.
    await expect(t.iam.verifyAccessToken(user.accessToken)).resolves.toMatchObject({ sub: user.userId });

    t.clock.advance(900 + 121);
    expect(await jwks()).toEqual([rotation.kid]);
    await expect(t.iam.createCaller({ bearerToken: fresh.accessToken }).auth.me()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(user.api.auth.me.query()).resolves.toMatchObject({ id: user.userId });
  });

  it('an immediate rotation (suspected compromise) ends every token of the old key at once', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    // Verified once, so the token sits in the verified-token cache.
    await expect(t.iam.verifyAccessToken(user.accessToken)).resolves.toBeTruthy();
    const rotation = await t.iam.services.keys.rotate({ immediately: true, accessTokenTtlInSeconds: 900 });
    await expect(t.iam.verifyAccessToken(user.accessToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const fresh = authenticated(await user.api.session.refresh.mutate());
    expect(kidOf(fresh.accessToken)).toBe(rotation.kid);
  });

  it('is safe across instances and restarts: another instance verifies and adopts the new key from the database', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const second = await createIamServer({ ...t.config, clock: t.clock, logger: createLogger({ level: 'silent' }), hibpApiUrl: null });
    try {
      await expect(second.verifyAccessToken(user.accessToken)).resolves.toMatchObject({ sub: user.userId });
      const rotation = await t.iam.services.keys.rotate({ accessTokenTtlInSeconds: 900 });
      t.clock.advance(301);
      const fresh = authenticated(await user.api.session.refresh.mutate());
      expect(kidOf(fresh.accessToken)).toBe(rotation.kid);
      // The second instance has never seen this kid: it reloads the keys and verifies.
      await expect(second.verifyAccessToken(fresh.accessToken)).resolves.toMatchObject({ sub: user.userId });
      // And signs with the new key too.
      const login = await second
        .createCaller({ client: { canary: user.jar.get('iam_cid') ?? null } })
        .auth.login({ email: user.email, password: user.password });
      if (login.status !== 'authenticated') throw new Error(login.status);
      expect(kidOf(login.accessToken)).toBe(rotation.kid);
    } finally {
      await second.close();
    }
    // A restart (a new instance) keeps the keys: the secret opens them.
    const restarted = await createIamServer({ ...t.config, clock: t.clock, logger: createLogger({ level: 'silent' }), hibpApiUrl: null });
    try {
      await expect(restarted.verifyAccessToken(user.accessToken)).resolves.toBeTruthy();
    } finally {
      await restarted.close();
    }
  });

  it('two instances whose clocks are 280 s apart agree on one key and accept each other’s tokens', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const behind: Clock = { now: () => new Date(t.clock.now().getTime() - 280_000) };
    const late = await createIamServer({ ...t.config, clock: behind, logger: createLogger({ level: 'silent' }), hibpApiUrl: null });
    try {
      const keyCount = async () => Number((await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM signing_keys'))[0][0]?.n);
      // The late instance found the key the other made "in its future" and made none of its own.
      expect(await keyCount()).toBe(1);
      // A token issued 280 s in its future (by its clock) is accepted…
      await expect(late.verifyAccessToken(user.accessToken)).resolves.toMatchObject({ sub: user.userId });
      // …and its own tokens are signed with the shared key and accepted by the other.
      const [device] = (await t.sql.query<RowDataPacket[]>('SELECT user_agent FROM devices WHERE user_id = ?', [user.userId]))[0];
      const signIn = async () => {
        const login = await late
          .createCaller({ client: { canary: user.jar.get('iam_cid') ?? null, userAgent: device?.user_agent ?? null } })
          .auth.login({ email: user.email, password: user.password });
        if (login.status !== 'authenticated') throw new Error(login.status);
        return login.accessToken;
      };
      const lateToken = await signIn();
      expect(kidOf(lateToken)).toBe(kidOf(user.accessToken));
      await expect(t.iam.verifyAccessToken(lateToken)).resolves.toMatchObject({ sub: user.userId });

      // Across a scheduled rotation: the punctual instance moves to the new key, the late one
      // still signs with the old one for a while; each accepts the other's tokens throughout.
      const rotation = await t.iam.services.keys.rotate({ accessTokenTtlInSeconds: 900 });
      t.clock.advance(301);
      const fresh = authenticated(await user.api.session.refresh.mutate()).accessToken;
      expect(kidOf(fresh)).toBe(rotation.kid);
      await expect(late.verifyAccessToken(fresh)).resolves.toMatchObject({ sub: user.userId });
      // Just before the old key retires by the late clock, the late instance still signs with it;
      // that token verifies everywhere until it expires.
      t.clock.advance(270);
      const stillOld = await signIn();
      expect(kidOf(stillOld)).toBe(kidOf(user.accessToken));
      // Its `exp` is by the late clock: 280 s sooner by the punctual one.
      t.clock.advance(900 - 280 - 10);
      await expect(t.iam.verifyAccessToken(stillOld)).resolves.toMatchObject({ sub: user.userId });
      expect(await keyCount()).toBe(2);
    } finally {
      await late.close();
    }
  });

  it('instances starting together on a database without keys make exactly one between them', async () => {
    await using t = await createTestServer();
    await t.sql.query('DELETE FROM signing_keys');
    const start = () => createIamServer({ ...t.config, clock: t.clock, logger: createLogger({ level: 'silent' }), hibpApiUrl: null });
    const instances = await Promise.all([start(), start(), start()]);
    try {
      const [rows] = await t.sql.query<RowDataPacket[]>('SELECT id FROM signing_keys');
      expect(rows).toHaveLength(1);
      const kids = instances.map((instance) => instance.services.keys.current().kid);
      expect(new Set(kids)).toEqual(new Set([rows[0]?.id]));
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });
});
