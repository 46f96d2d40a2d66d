import { randomBytes } from 'node:crypto';
import { createCookieJar, isIamError } from '@iam/client';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, errorOf, expectNoInternals, get, resultOf } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Minter {
  /** Claims of a token the service itself would issue for the signed-in user, right now. */
  claims(): JWTPayload & { sub: string; sid: string };
  /** Signs with the service's own current key; `header` replaces the default header. */
  sign(payload: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  kid: string;
}

async function minter(t: TestServer, accessToken: string): Promise<Minter> {
  const { kid, privateKey } = t.iam.services.keys.current();
  const issued = decodeJwt(accessToken);
  return {
    kid,
    claims() {
      const iat = Math.floor(t.clock.now().getTime() / 1000);
      return {
        iss: t.url,
        aud: t.url,
        sub: String(issued.sub),
        sid: String(issued.sid),
        jti: randomBytes(16).toString('hex'),
        iat,
        exp: iat + 15 * 60,
        roles: ['user'],
      };
    },
    sign(payload, header = { alg: 'EdDSA', typ: 'at+jwt', kid }) {
      return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(privateKey);
    },
  };
}

/** `auth.me` with a raw bearer token: the HTTP status and catalog code. */
async function me(t: TestServer, token: string) {
  const response = await get(t.trpcUrl, 'auth.me', undefined, bearer(token));
  expectNoInternals(response);
  return { status: response.status, iamCode: response.status === 200 ? null : errorOf(response).iamCode, response };
}

function without<T extends object>(value: T, key: keyof T): T {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

describe('access-token verification on auth.me', () => {
  it('accepts a token minted with the service key and the issued claims, so the rejections below mean something', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mint = await minter(t, user.accessToken);
    expect(decodeProtectedHeader(user.accessToken)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: mint.kid });

    const result = await me(t, await mint.sign(mint.claims()));
    expect(result.status).toBe(200);
    expect(resultOf<{ id: string }>(result.response).id).toBe(user.userId);
    expect((await me(t, user.accessToken)).status).toBe(200);
  });

  it('an access token past its expiry is TOKEN_EXPIRED, and a client that cannot refresh surfaces that code', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    t.clock.advance(16 * 60);

    expect(await me(t, user.accessToken)).toMatchObject({ status: 401, iamCode: 'TOKEN_EXPIRED' });
    // A client on another device (no refresh cookie) cannot renew it: the original code comes back.
    const stranger = t.client({ cookieJar: createCookieJar(), headers: bearer(user.accessToken) });
    await expect(stranger.api.auth.me.query()).rejects.toSatisfy((error) => isIamError(error, 'TOKEN_EXPIRED'));

    const mint = await minter(t, user.accessToken);
    const claims = mint.claims();
    const lapsed = { ...claims, iat: Number(claims.iat) - 20 * 60, exp: Number(claims.iat) - 5 * 60 };
    expect(await me(t, await mint.sign(lapsed))).toMatchObject({ status: 401, iamCode: 'TOKEN_EXPIRED' });
  });

  it('a token whose payload was changed under the original signature is UNAUTHENTICATED', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const [header, payload, signature] = user.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${b64({ ...claims, roles: ['user', 'admin'] })}.${signature}`;
    expect(await me(t, tampered)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
    const extended = `${header}.${b64({ ...claims, exp: Number(claims.exp) + 3600 })}.${signature}`;
    expect(await me(t, extended)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
  });

  it('a token with altered signature bytes is UNAUTHENTICATED', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const [header, payload, signature] = user.accessToken.split('.');
    const bytes = Buffer.from(signature ?? '', 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    expect(await me(t, `${header}.${payload}.${bytes.toString('base64url')}`)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
    expect(await me(t, `${header}.${payload}.`)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
  });

  it('an unsigned alg:none token naming the real kid is UNAUTHENTICATED', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mint = await minter(t, user.accessToken);
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${b64({ alg, typ: 'at+jwt', kid: mint.kid })}.${b64(mint.claims())}.`;
      expect(await me(t, token)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
    }
  });

  it('a token signed with a key of our own making, under the real kid, is UNAUTHENTICATED', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mint = await minter(t, user.accessToken);
    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    for (const typ of ['JWT', 'at+jwt']) {
      const token = await new SignJWT(mint.claims()).setProtectedHeader({ alg: 'EdDSA', typ, kid: mint.kid }).sign(attacker.privateKey);
      expect(await me(t, token)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
    }
    // Embedding the attacker's public key does not make the service trust it (RFC 8725 §3.1).
    const jwk = await exportJWK(attacker.publicKey);
    const embedded = await new SignJWT(mint.claims())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: mint.kid, jwk })
      .sign(attacker.privateKey);
    expect(await me(t, embedded)).toMatchObject({ status: 401, iamCode: 'UNAUTHENTICATED' });
  });

  it('validly signed tokens with a wrong header or claim are each UNAUTHENTICATED', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mint = await minter(t, user.accessToken);
    const { kid } = mint;
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const publicJwk = (await fetch(`${t.url}/.well-known/jwks.json`).then((response) => response.json())) as { keys: object[] };

    const cases: Array<[string, JWTPayload, Record<string, unknown>?]> = [
      ['typ JWT', mint.claims(), { alg: 'EdDSA', typ: 'JWT', kid }],
      ['no typ', mint.claims(), { alg: 'EdDSA', kid }],
      ['no kid', mint.claims(), { alg: 'EdDSA', typ: 'at+jwt' }],
      ['an unknown kid', mint.claims(), { alg: 'EdDSA', typ: 'at+jwt', kid: 'key_doesnotexist000' }],
      ['an embedded jwk', mint.claims(), { alg: 'EdDSA', typ: 'at+jwt', kid, jwk: publicJwk.keys[0] }],
      ['a jku', mint.claims(), { alg: 'EdDSA', typ: 'at+jwt', kid, jku: `${t.url}/.well-known/jwks.json` }],
      ['a wrong aud', { ...mint.claims(), aud: 'https://other.example' }],
      ['no aud', without(mint.claims(), 'aud')],
      ['a wrong iss', { ...mint.claims(), iss: 'https://evil.example' }],
      ['no iss', without(mint.claims(), 'iss')],
      ['no sid', without(mint.claims(), 'sid')],
      ['no sub', without(mint.claims(), 'sub')],
      ['no jti', without(mint.claims(), 'jti')],
      ['no exp', without(mint.claims(), 'exp')],
      ['no iat', without(mint.claims(), 'iat')],
      ['roles that are not a list', { ...mint.claims(), roles: 'admin' }],
      ['an iat 10 minutes in the future', { ...mint.claims(), iat: now + 600, exp: now + 600 + 15 * 60 }],
      ['an exp far beyond the lifetime', { ...mint.claims(), exp: now + 30 * 24 * 3600 }],
      ['an nbf in the future', { ...mint.claims(), nbf: now + 600 }],
    ];
    for (const [label, payload, header] of cases) {
      const token = await mint.sign(payload, header);
      expect({ label, ...(await me(t, token)) }).toMatchObject({ label, status: 401, iamCode: 'UNAUTHENTICATED' });
    }
    // None of this touched the real session.
    expect((await me(t, user.accessToken)).status).toBe(200);
  });

  it('a token for a revoked session is SESSION_REVOKED even when freshly minted with a new jti', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const mint = await minter(t, user.accessToken);
    await user.api.auth.logout.mutate();
    expect(await me(t, user.accessToken)).toMatchObject({ status: 401, iamCode: 'SESSION_REVOKED' });
    expect(await me(t, await mint.sign(mint.claims()))).toMatchObject({ status: 401, iamCode: 'SESSION_REVOKED' });
  });
});
