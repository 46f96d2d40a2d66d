import { createHash, createHmac } from 'node:crypto';
import { canonicalRequest as clientCanonical, createNonce, signRequest } from '@iam/client';
import { canonicalRequest } from '@iam/shared';
import { describe, expect, it } from 'vitest';

/** A request fixed by hand: `bff.introspect` with a 16-byte nonce (bytes 0…15). */
const vector = {
  secret: 'test-secret: 0123456789abcdef0123456789abcdef',
  method: 'post',
  path: '/trpc/bff.introspect',
  timestamp: 1_767_225_600_000,
  nonce: 'AAECAwQFBgcICQoLDA0ODw',
  body: '{"json":{"accessToken":"not-a-token"}}',
};

/** The same request written out line by line, as docs/api.md describes it. */
const literalCanonical =
  'v1\n' +
  'POST\n' +
  '/trpc/bff.introspect\n' +
  '1767225600000\n' +
  'AAECAwQFBgcICQoLDA0ODw\n' +
  // sha256('{"json":{"accessToken":"not-a-token"}}'), by `printf '%s' … | sha256sum`
  '0cea11f6c0e76acf4edc6273c7a39c03d3a26c2bccde7a289199969250f26222';

const expectedSignature = createHmac('sha256', Buffer.from(vector.secret, 'utf8')).update(literalCanonical, 'utf8').digest('hex');

describe('the request signer', () => {
  it('the literal vector is what docs/api.md describes (nonce bytes, body digest)', () => {
    expect(Buffer.from(vector.nonce, 'base64url')).toEqual(Buffer.from(Array.from({ length: 16 }, (_, index) => index)));
    expect(createHash('sha256').update(vector.body).digest('hex')).toBe(literalCanonical.split('\n')[5]);
    expect(expectedSignature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('@iam/client signs the known vector: the four headers, the signature in lowercase hex', async () => {
    const headers = await signRequest({
      method: vector.method,
      url: `https://auth.example.com${vector.path}`,
      body: vector.body,
      keyId: 'bff-1',
      secret: vector.secret,
      timestamp: vector.timestamp,
      nonce: vector.nonce,
    });
    expect(headers).toEqual({
      'x-iam-key-id': 'bff-1',
      'x-iam-timestamp': '1767225600000',
      'x-iam-nonce': vector.nonce,
      'x-iam-signature': expectedSignature,
    });
    expect(
      clientCanonical({
        method: vector.method,
        pathWithQuery: vector.path,
        timestamp: String(vector.timestamp),
        nonce: vector.nonce,
        bodySha256Hex: createHash('sha256').update(vector.body).digest('hex'),
      }),
    ).toBe(literalCanonical);
  });

  it('signer and service share one canonical form (@iam/shared), which gives the literal string', () => {
    expect(clientCanonical).toBe(canonicalRequest);
    const canonical = canonicalRequest({
      method: vector.method,
      pathWithQuery: vector.path,
      timestamp: String(vector.timestamp),
      nonce: vector.nonce,
      bodySha256Hex: createHash('sha256').update(vector.body).digest('hex'),
    });
    expect(canonical).toBe(literalCanonical);
  });

  it('signs bytes and paths exactly: a byte body, the query string, the empty body of a GET, a non-ASCII secret', async () => {
    const secret = 'clé secrète — 🔑 0123456789abcdefghij';
    const bytes = new Uint8Array([0x7b, 0xe2, 0x82, 0xac, 0x7d]);
    const withBytes = await signRequest({
      method: 'POST',
      path: '/trpc/bff.a,bff.b?batch=1',
      body: bytes,
      keyId: 'k',
      secret,
      timestamp: 1,
      nonce: vector.nonce,
    });
    const bytesCanonical = [
      'v1',
      'POST',
      '/trpc/bff.a,bff.b?batch=1',
      '1',
      vector.nonce,
      createHash('sha256').update(bytes).digest('hex'),
    ].join('\n');
    expect(withBytes['x-iam-signature']).toBe(createHmac('sha256', Buffer.from(secret, 'utf8')).update(bytesCanonical).digest('hex'));

    const get = await signRequest({
      method: 'get',
      url: 'http://127.0.0.1:1/trpc/x?input=%7B%7D',
      keyId: 'k',
      secret,
      timestamp: 2,
      nonce: vector.nonce,
    });
    const getCanonical = [
      'v1',
      'GET',
      '/trpc/x?input=%7B%7D',
      '2',
      vector.nonce,
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ].join('\n');
    expect(get['x-iam-signature']).toBe(createHmac('sha256', Buffer.from(secret, 'utf8')).update(getCanonical).digest('hex'));
  });

  it('makes a fresh nonce of 16–64 random bytes, base64url, for every request', async () => {
    const first = await signRequest({ method: 'POST', path: '/p', body: '', keyId: 'k', secret: 's'.repeat(32) });
    const second = await signRequest({ method: 'POST', path: '/p', body: '', keyId: 'k', secret: 's'.repeat(32) });
    expect(first['x-iam-nonce']).not.toBe(second['x-iam-nonce']);
    for (const headers of [first, second]) {
      expect(headers['x-iam-nonce']).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(headers['x-iam-nonce'], 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(Number(headers['x-iam-timestamp'])).toBeGreaterThan(Date.now() - 5_000);
    }
    expect(Buffer.from(createNonce(16), 'base64url')).toHaveLength(16);
    expect(() => createNonce(15)).toThrow(RangeError);
    expect(() => createNonce(65)).toThrow(RangeError);
  });
});
