import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { desc, gt, isNull, or, sql } from 'drizzle-orm';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { Logger } from 'pino';
import { type Database, type Executor, runTransaction, type Transaction } from '../../db/client';
import { signingKeys } from '../../db/tables';
import { addSeconds, type Clock, maxClockSkewInSeconds } from '../clock';
import { base32 } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';
import { takeServiceLock } from '../locks/serviceLock';

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
  /** The key new tokens are signed with now, and when it started signing (its age is a metric). */
  current(): { kid: string; privateKey: CryptoKey; activatesAt: Date };
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
  let timer: NodeJS.Timeout | undefined;
  /** Reloads for unknown `kid`s: at most one a second (real time), shared by every waiting request. */
  const unknownKidReloadIntervalInMs = 1_000;
  let lastReloadAtMs = 0;
  let pendingReload: Promise<void> | undefined;

  async function load(executor: Executor = deps.db): Promise<void> {
    const now = deps.clock.now();
    const rows = await executor
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
    lastReloadAtMs = Date.now();
  }

  /** One reload for every request that met an unknown `kid` meanwhile, at most one a second. */
  function reloadForUnknownKid(): Promise<void> {
    pendingReload ??= (async () => {
      const waitInMs = lastReloadAtMs + unknownKidReloadIntervalInMs - Date.now();
      if (waitInMs > 0) await sleep(waitInMs);
      await load();
    })().finally(() => {
      pendingReload = undefined;
    });
    return pendingReload;
  }

  /**
   * The key to sign with: the newest that has started signing by this instance's clock. An
   * instance whose clock is behind the others' (within `maxClockSkewInSeconds`) can find that
   * none has started yet; it then signs with the oldest key still in service, which the others
   * sign with or have just stopped signing with, and which every instance verifies. It never
   * makes a key of its own for that: keys are created only under the lock row (`create`), so
   * the instances agree on one key whatever their clocks say.
   */
  function signingKey(now: Date): LoadedKey | undefined {
    let best: LoadedKey | undefined;
    let earliest: LoadedKey | undefined;
    for (const key of keys.values()) {
      if (!key.privateKey || (key.retiredAt && key.retiredAt <= now) || (key.expiresAt && key.expiresAt <= now)) continue;
      if (!earliest || key.activatesAt < earliest.activatesAt) earliest = key;
      if (key.activatesAt > now) continue;
      if (!best || key.activatesAt > best.activatesAt) best = key;
    }
    if (best) return best;
    return earliest && earliest.activatesAt.getTime() - now.getTime() <= maxClockSkewInSeconds * 1000 ? earliest : undefined;
  }

  /** Whether the database holds a key some instance signs with now or will (not retired). */
  async function hasKeyInService(tx: Transaction, now: Date): Promise<boolean> {
    const [row] = await tx
      .select({ id: signingKeys.id })
      .from(signingKeys)
      .where(
        sql`(${signingKeys.retiredAt} is null or ${signingKeys.retiredAt} > ${now}) and (${signingKeys.expiresAt} is null or ${signingKeys.expiresAt} > ${now})`,
      )
      .limit(1);
    return row !== undefined;
  }

  async function create(tx: Transaction, activatesAt: Date): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(accessTokenAlgorithm, { crv: 'Ed25519', extractable: true });
    const kid = `key_${base32(randomBytes(10))}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: accessTokenAlgorithm, use: 'sig' };
    const pkcs8 = await exportPKCS8(privateKey);
    await tx.insert(signingKeys).values({
      id: kid,
      alg: accessTokenAlgorithm,
      publicJwk,
      privateKeySealed: seal(sealKey, pkcs8, `${sealPurpose}:${kid}`),
      createdAt: deps.clock.now(),
      activatesAt,
    });
    return kid;
  }

  async function rotateLocked(
    tx: Transaction,
    options: { immediately?: boolean; accessTokenTtlInSeconds: number },
  ): Promise<RotationResult> {
    const now = deps.clock.now();
    const activatesAt = options.immediately ? now : addSeconds(now, jwksMaxAgeInSeconds);
    // Tokens signed by an instance that has not reloaded yet must still verify: their lifetime
    // plus one reload interval and a margin. Clock skew needs nothing here: an instance stops
    // signing with a key when its own clock reaches `retiredAt`, so every token of the key has
    // `exp` before `retiredAt` plus a lifetime, as timestamps, and each verifier compares both
    // to the same clock, its own.
    const previousExpireAt = options.immediately
      ? now
      : addSeconds(activatesAt, options.accessTokenTtlInSeconds + 2 * keyReloadIntervalInSeconds);
    const kid = await create(tx, activatesAt);
    await tx
      .update(signingKeys)
      .set({ retiredAt: activatesAt, expiresAt: previousExpireAt })
      .where(sql`${signingKeys.id} <> ${kid} and (${signingKeys.retiredAt} is null or ${signingKeys.retiredAt} > ${activatesAt})`);
    return { kid, activatesAt, previousExpireAt };
  }

  async function rotate(options: { immediately?: boolean; accessTokenTtlInSeconds: number }): Promise<RotationResult> {
    const result = await runTransaction(deps.db, async (tx) => {
      await takeServiceLock(tx, 'signing_keys', deps.clock.now());
      return rotateLocked(tx, options);
    });
    await load();
    deps.logger.warn({ ...result, immediately: Boolean(options.immediately) }, 'signing keys rotated');
    return result;
  }

  /** Rotates when the newest key is older than the schedule; the lock row lets one instance do it. */
  async function rotateIfDue(everyInSeconds: number, accessTokenTtlInSeconds: number): Promise<void> {
    const newest = [...keys.values()].reduce<LoadedKey | undefined>((a, b) => (!a || b.activatesAt > a.activatesAt ? b : a), undefined);
    if (newest && addSeconds(newest.activatesAt, everyInSeconds) > deps.clock.now()) return;
    const result = await runTransaction(deps.db, async (tx) => {
      await takeServiceLock(tx, 'signing_keys', deps.clock.now());
      // Judged again under the lock: another instance may have rotated meanwhile.
      const [latest] = await tx
        .select({ activatesAt: signingKeys.activatesAt })
        .from(signingKeys)
        .orderBy(desc(signingKeys.activatesAt))
        .limit(1);
      if (latest && addSeconds(latest.activatesAt, everyInSeconds) > deps.clock.now()) return null;
      return rotateLocked(tx, { accessTokenTtlInSeconds });
    });
    await load();
    if (result) deps.logger.warn({ ...result, scheduled: true }, 'signing keys rotated');
  }

  return {
    async init() {
      await load();
      if (!signingKey(deps.clock.now())) {
        // Only when no key is in service at all (a new database): created under the lock row,
        // so instances starting together make one key between them.
        const created = await runTransaction(deps.db, async (tx) => {
          const now = deps.clock.now();
          await takeServiceLock(tx, 'signing_keys', now);
          return (await hasKeyInService(tx, now)) ? null : create(tx, now);
        });
        if (created) deps.logger.info({ kid: created }, 'created access-token signing key');
        await load();
      }
      if (!signingKey(deps.clock.now()))
        throw new Error(
          'No usable signing key: IAM_SECRET does not open any stored key, or this clock is far behind the one that made it.',
        );
    },
    current() {
      const key = signingKey(deps.clock.now());
      if (!key?.privateKey) throw new Error('No usable signing key: call init() first.');
      return { kid: key.kid, privateKey: key.privateKey, activatesAt: key.activatesAt };
    },
    async verificationKey(kid) {
      const known = keys.get(kid);
      const now = deps.clock.now();
      if (known) return known.expiresAt && known.expiresAt <= now ? null : known.publicKey;
      // Another instance may have rotated: reload (shared and spaced, so a flood of made-up
      // `kid`s costs one query a second).
      await reloadForUnknownKid();
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
