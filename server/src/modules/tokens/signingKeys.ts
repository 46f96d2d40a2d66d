import { randomBytes } from 'node:crypto';
import { desc, gt, isNull, or } from 'drizzle-orm';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { signingKeys } from '../../db/tables';
import type { Clock } from '../clock';
import { base32 } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';

/** EdDSA over Ed25519: small, fast, deterministic signatures (RFC 8037; RFC 8725 §3.1 pins it). */
export const accessTokenAlgorithm = 'EdDSA';
const sealPurpose = 'signing-key';

interface LoadedKey {
  kid: string;
  publicKey: CryptoKey;
  publicJwk: JWK;
  privateKey: CryptoKey | undefined;
  createdAt: Date;
  retiredAt: Date | null;
  expiresAt: Date | null;
}

export interface SigningKeyStore {
  /** Loads the keys, creating the first one when the database has none. */
  init(): Promise<void>;
  /** The key new tokens are signed with. */
  current(): { kid: string; privateKey: CryptoKey };
  /**
   * The public key for a `kid`, or null. An unknown `kid` reloads the keys from the
   * database at most once every few seconds (another instance may have rotated), so a
   * flood of made-up `kid`s cannot turn into a flood of queries.
   */
  verificationKey(kid: string): Promise<CryptoKey | null>;
  jwks(): { keys: JWK[] };
}

export function createSigningKeyStore(deps: { db: Database; secret: string; clock: Clock; logger: Logger }): SigningKeyStore {
  const sealKey = deriveKey(deps.secret, sealPurpose);
  let keys = new Map<string, LoadedKey>();
  let signing: { kid: string; privateKey: CryptoKey } | undefined;
  let lastReloadAt = 0;
  const reloadIntervalInMs = 5_000;

  async function load(): Promise<void> {
    const now = deps.clock.now();
    const rows = await deps.db
      .select()
      .from(signingKeys)
      .where(or(isNull(signingKeys.expiresAt), gt(signingKeys.expiresAt, now)))
      .orderBy(desc(signingKeys.createdAt));
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const publicJwk = row.publicJwk as JWK;
      const publicKey = (await importJWK(publicJwk, accessTokenAlgorithm)) as CryptoKey;
      let privateKey: CryptoKey | undefined;
      if (!row.retiredAt || row.retiredAt > now) {
        const pkcs8 = open(sealKey, row.privateKeySealed, `${sealPurpose}:${row.id}`);
        if (pkcs8 === null) {
          deps.logger.error({ kid: row.id }, 'signing key cannot be opened with this IAM_SECRET; it will only verify');
        } else {
          privateKey = await importPKCS8(pkcs8, accessTokenAlgorithm);
        }
      }
      next.set(row.id, {
        kid: row.id,
        publicKey,
        publicJwk,
        privateKey,
        createdAt: row.createdAt,
        retiredAt: row.retiredAt,
        expiresAt: row.expiresAt,
      });
    }
    keys = next;
    // Sign with the newest key that is not retired and that we can open.
    signing = undefined;
    for (const key of next.values()) {
      if (key.privateKey) {
        signing = { kid: key.kid, privateKey: key.privateKey };
        break;
      }
    }
    lastReloadAt = Date.now();
  }

  async function create(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair(accessTokenAlgorithm, { crv: 'Ed25519', extractable: true });
    const kid = `key_${base32(randomBytes(10))}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: accessTokenAlgorithm, use: 'sig' };
    const pkcs8 = await exportPKCS8(privateKey);
    await deps.db.insert(signingKeys).values({
      id: kid,
      alg: accessTokenAlgorithm,
      publicJwk,
      privateKeySealed: seal(sealKey, pkcs8, `${sealPurpose}:${kid}`),
      createdAt: deps.clock.now(),
    });
    deps.logger.info({ kid }, 'created access-token signing key');
  }

  return {
    async init() {
      await load();
      if (!signing) {
        await create();
        await load();
      }
      if (!signing) throw new Error('No usable signing key: IAM_SECRET does not open any stored key.');
    },
    current() {
      if (!signing) throw new Error('Signing keys are not loaded: call init() first.');
      return signing;
    },
    async verificationKey(kid) {
      const known = keys.get(kid);
      const now = deps.clock.now();
      if (known) return known.expiresAt && known.expiresAt <= now ? null : known.publicKey;
      if (Date.now() - lastReloadAt < reloadIntervalInMs) return null;
      await load();
      return keys.get(kid)?.publicKey ?? null;
    },
    jwks() {
      return { keys: [...keys.values()].map((key) => key.publicJwk) };
    },
  };
}
