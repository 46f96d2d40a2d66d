import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A software passkey authenticator for the integration suites: an ES256 key pair, real CBOR
 * attestation objects (format `none`) and real signed assertions, as a platform authenticator
 * produces them (W3C WebAuthn Level 3 §6.1, §6.5; RFC 8152 COSE keys). Flags and the signature
 * counter can be set per call, to play a broken or cloned authenticator.
 */
export interface SoftwareAuthenticator {
  credentialId: Buffer;
  /** The response to `navigator.credentials.create(options)`, as `@simplewebauthn/browser` sends it. */
  register(options: { challenge: string; user: { id: string } }, ceremony: Ceremony): Record<string, unknown>;
  /** The response to `navigator.credentials.get(options)`. */
  assert(options: { challenge: string }, ceremony: Ceremony & { counter?: number }): Record<string, unknown>;
}

export interface Ceremony {
  origin: string;
  rpId: string;
  /** User verification (biometrics, PIN) done: default true. */
  userVerified?: boolean;
}

const b64url = (bytes: Buffer | Uint8Array) => Buffer.from(bytes).toString('base64url');

export function createSoftwareAuthenticator(): SoftwareAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const credentialId = randomBytes(32);
  let userHandle = '';
  let counter = 0;
  return {
    credentialId,
    register(options, ceremony) {
      userHandle = options.user.id;
      const clientDataJSON = Buffer.from(
        JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: ceremony.origin, crossOrigin: false }),
      );
      const attested = Buffer.concat([
        Buffer.alloc(16), // AAGUID: none
        u16(credentialId.length),
        credentialId,
        coseKeyOf(publicKey),
      ]);
      const authData = Buffer.concat([
        sha256(ceremony.rpId),
        Buffer.from([flags({ userVerified: ceremony.userVerified ?? true, attested: true })]),
        u32(counter),
        attested,
      ]);
      const attestationObject = cbor(
        new Map<unknown, unknown>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData],
        ]),
      );
      return {
        id: b64url(credentialId),
        rawId: b64url(credentialId),
        type: 'public-key',
        response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
    assert(options, ceremony) {
      counter = ceremony.counter ?? counter + 1;
      const clientDataJSON = Buffer.from(
        JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: ceremony.origin, crossOrigin: false }),
      );
      const authData = Buffer.concat([
        sha256(ceremony.rpId),
        Buffer.from([flags({ userVerified: ceremony.userVerified ?? true, attested: false })]),
        u32(counter),
      ]);
      const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey);
      return {
        id: b64url(credentialId),
        rawId: b64url(credentialId),
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientDataJSON),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          userHandle,
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
  };
}

function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

/** UP always; UV when verified; BE and BS (a synced passkey); AT on registration. */
function flags(input: { userVerified: boolean; attested: boolean }): number {
  return 0x01 | (input.userVerified ? 0x04 : 0) | 0x08 | 0x10 | (input.attested ? 0x40 : 0);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** The EC2 P-256 public key as a COSE_Key: kty 2, alg -7 (ES256), crv 1, x, y. */
function coseKeyOf(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return cbor(
    new Map<unknown, unknown>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]),
  );
}

/** A minimal CBOR encoder (RFC 8949): integers, byte and text strings, arrays and maps. */
function cbor(value: unknown): Buffer {
  const head = (major: number, length: number): Buffer => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
    if (length < 0x10000) return Buffer.concat([Buffer.from([(major << 5) | 25]), u16(length)]);
    return Buffer.concat([Buffer.from([(major << 5) | 26]), u32(length)]);
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  if (value instanceof Map) {
    return Buffer.concat([head(5, value.size), ...[...value].flatMap(([key, entry]) => [cbor(key), cbor(entry)])]);
  }
  throw new Error(`cbor: cannot encode ${typeof value}`);
}
