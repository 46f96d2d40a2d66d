import { randomBytes } from 'node:crypto';
import { desc, gt, isNull, or, sql } from 'drizzle-orm';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { signingKeys } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import { base32 } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';

/** EdDSA over Ed25519: small, fast, deterministic signatures (RFC 8037; RFC 8725 §3.1 pins it). */
export const accessTokenAlgorithm = 'EdDSA';
const sealPurpose = 'signing-key';
/** How often every instance re-reads the keys, so rotations made elsewhere arrive. */
export const keyReloadIntervalInSeconds = 60;
/** JWKS responses may be cached this long, so a new key is published this long before it signs. */
export const jwksMaxAgeInSeconds = 300;

interface LoadedKey {
  kid: string;
  publicKey: CryptoKey;
  publicJwk: JWK;
  privateKey: CryptoKey | undefined;
  activatesAt: Date;
  retiredAt: Date | null;
  expiresAt: Date | null;
}

export interface RotationResult {
  kid: string;
  activatesAt: Date;
  /** When the keys it replaces stop verifying. */
  previousExpireAt: Date;
}

export interface SigningKeyStore {
  /** Loads the keys, creating the first one when the database has none. */
  init(): Promise<void>;
  /** The key new tokens are signed with now. */
  current(): { kid: string; privateKey: CryptoKey };
  /**
   * The public key for a `kid`, or null. An unknown `kid` reloads the keys from the
   * database at most once every few seconds (another instance may have rotated), so a
   * flood of made-up `kid`s cannot turn into a flood of queries.
   */
  verificationKey(kid: string): Promise<CryptoKey | null>;
  /** Whether tokens of this `kid` still verify, from memory only (for cached verifications). */
  isTrusted(kid: string): boolean;
  /** The current, upcoming and previous public keys (RFC 7517). */
  jwks(): { keys: JWK[] };
  /**
   * Adds a key that takes over signing once verifiers can have fetched it (after
   * `jwksMaxAgeInSeconds`), and retires the others: they verify until every token they
   * can have signed has expired. `immediately` (a suspected compromise): the new key signs
   * at once and the old ones stop verifying at once, ending every token they signed.
   */
  rotate(options: { immediately?: boolean; accessTokenTtlInSeconds: number }): Promise<RotationResult>;
  /** Re-reads the keys every minute and, when `rotateEveryInSeconds` is set, rotates on schedule. */
  start(options: { rotateEveryInSeconds?: number; accessTokenTtlInSeconds: number }): void;
  stop(): void;
}

export function createSigningKeyStore(deps: { db: Database; secret: string; clock: Clock; logger: Logger }): SigningKeyStore {
  const sealKey = deriveKey(deps.secret, sealPurpose);
  let keys = new Map<string, LoadedKey>();
  let lastReloadAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const unknownKidReloadIntervalInMs = 5_000;

  async function load(): Promise<void> {
    const now = deps.clock.now();
    const rows = await deps.db
      .select()
      .from(signingKeys)
      .where(or(isNull(signingKeys.expiresAt), gt(signingKeys.expiresAt, now)))
      .orderBy(desc(signingKeys.activatesAt));
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const known = keys.get(row.id);
      const publicJwk = row.publicJwk as JWK;
      const publicKey = known?.publicKey ?? ((await importJWK(publicJwk, accessTokenAlgorithm)) as CryptoKey);
      let privateKey = known?.privateKey;
      if (!privateKey && (!row.retiredAt || row.retiredAt > now)) {
        const pkcs8 = open(sealKey, row.privateKeySealed, `${sealPurpose}:${row.id}`);
        if (pkcs8 === null) deps.logger.error({ kid: row.id }, 'signing key cannot be opened with this IAM_SECRET; it will only verify');
        else privateKey = await importPKCS8(pkcs8, accessTokenAlgorithm);
      }
      next.set(row.id, {
        kid: row.id,
        publicKey,
        publicJwk,
        privateKey,
        activatesAt: row.activatesAt,
        retiredAt: row.retiredAt,
        expiresAt: row.expiresAt,
      });
    }
    keys = next;
    lastReloadAt = deps.clock.now().getTime();
  }

  /** The newest active key we can sign with. */
  function signingKey(now: Date): LoadedKey | undefined {
    let best: LoadedKey | undefined;
    for (const key of keys.values()) {
      if (!key.privateKey || key.activatesAt > now || (key.retiredAt && key.retiredAt <= now) || (key.expiresAt && key.expiresAt <= now))
        continue;
      if (!best || key.activatesAt > best.activatesAt) best = key;
    }
    return best;
  }

  async function create(activatesAt: Date): Promise<string> {
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
      activatesAt,
    });
    deps.logger.info({ kid, activatesAt }, 'created access-token signing key');
    return kid;
  }

  async function rotate(options: { immediately?: boolean; accessTokenTtlInSeconds: number }): Promise<RotationResult> {
    const now = deps.clock.now();
    const activatesAt = options.immediately ? now : addSeconds(now, jwksMaxAgeInSeconds);
    // Tokens signed by an instance that has not reloaded yet must still verify: their
    // lifetime plus one reload interval and a margin.
    const previousExpireAt = options.immediately
      ? now
      : addSeconds(activatesAt, options.accessTokenTtlInSeconds + 2 * keyReloadIntervalInSeconds);
    const kid = await create(activatesAt);
    await deps.db
      .update(signingKeys)
      .set({ retiredAt: activatesAt, expiresAt: previousExpireAt })
      .where(sql`${signingKeys.id} <> ${kid} and (${signingKeys.retiredAt} is null or ${signingKeys.retiredAt} > ${activatesAt})`);
    await load();
    deps.logger.warn({ kid, activatesAt, previousExpireAt, immediately: Boolean(options.immediately) }, 'signing keys rotated');
    return { kid, activatesAt, previousExpireAt };
  }

  /** Rotates when the newest key is older than the schedule; one instance at a time. */
  async function rotateIfDue(everyInSeconds: number, accessTokenTtlInSeconds: number): Promise<void> {
    const newest = [...keys.values()].reduce<LoadedKey | undefined>((a, b) => (!a || b.activatesAt > a.activatesAt ? b : a), undefined);
    if (newest && addSeconds(newest.activatesAt, everyInSeconds) > deps.clock.now()) return;
    const lockName = 'iam_signing_key_rotation';
    await deps.db.transaction(async (tx) => {
      const [rows] = (await tx.execute(sql`SELECT GET_LOCK(${lockName}, 0) AS locked`)) as unknown as [Array<{ locked: number }>];
      if (rows[0]?.locked !== 1) return;
      try {
        await load();
        const latest = [...keys.values()].reduce<LoadedKey | undefined>((a, b) => (!a || b.activatesAt > a.activatesAt ? b : a), undefined);
        if (!latest || addSeconds(latest.activatesAt, everyInSeconds) <= deps.clock.now()) await rotate({ accessTokenTtlInSeconds });
      } finally {
        await tx.execute(sql`SELECT RELEASE_LOCK(${lockName})`);
      }
    });
  }

  return {
    async init() {
      await load();
      if (!signingKey(deps.clock.now())) {
        await create(deps.clock.now());
        await load();
      }
      if (!signingKey(deps.clock.now())) throw new Error('No usable signing key: IAM_SECRET does not open any stored key.');
    },
    current() {
      const key = signingKey(deps.clock.now());
      if (!key?.privateKey) throw new Error('No usable signing key: call init() first.');
      return { kid: key.kid, privateKey: key.privateKey };
    },
    async verificationKey(kid) {
      const known = keys.get(kid);
      const now = deps.clock.now();
      if (known) return known.expiresAt && known.expiresAt <= now ? null : known.publicKey;
      if (deps.clock.now().getTime() - lastReloadAt < unknownKidReloadIntervalInMs) return null;
      await load();
      return keys.get(kid)?.publicKey ?? null;
    },
    isTrusted(kid) {
      const known = keys.get(kid);
      return known !== undefined && (!known.expiresAt || known.expiresAt > deps.clock.now());
    },
    jwks() {
      const now = deps.clock.now();
      return { keys: [...keys.values()].filter((key) => !key.expiresAt || key.expiresAt > now).map((key) => key.publicJwk) };
    },
    rotate,
    start(options) {
      const tick = async () => {
        try {
          await load();
          if (options.rotateEveryInSeconds) await rotateIfDue(options.rotateEveryInSeconds, options.accessTokenTtlInSeconds);
        } catch (error) {
          deps.logger.warn({ err: error }, 'signing-key refresh failed; retrying');
        }
        if (timer) timer = setTimeout(tick, keyReloadIntervalInSeconds * 1000).unref();
      };
      timer = setTimeout(tick, keyReloadIntervalInSeconds * 1000).unref();
    },
    stop() {
      const pending = timer;
      timer = undefined;
      clearTimeout(pending);
    },
  };
}
