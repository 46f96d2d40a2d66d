import { and, count, desc, eq, gt, isNull, lte, or } from 'drizzle-orm';
import { type Database, runTransaction } from '../../db/client';
import { type ApiKeyRow, apiKeys, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { consumeLimits } from '../rateLimit/guards';
import type { RateLimits } from '../rateLimit/rateLimiter';
import { claimAccount } from '../users/users';

/** Every key starts with it, so a leaked key is recognisable (secret scanners, logs). */
export const apiKeyPrefix = 'iam_';

/** `iam_` and 256 bits in base64url (RFC 4648 §5): 43 characters. */
const apiKeyPattern = /^iam_[A-Za-z0-9_-]{43}$/;

/** The characters of a key kept in clear for display: `iam_` and 8 more (48 of its 256 bits). */
const displayPrefixLength = 12;

/** `last_used_at` is written at most this often per key (docs/api.md, apiKeys). */
const lastUsedResolutionInSeconds = 60;

/** Live (not revoked, not expired) keys one user may hold. */
export const defaultMaxApiKeysPerUser = 50;

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

/** What may be shown of a key: never the key or its hash. */
export function toApiKeySummary(row: ApiKeyRow): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
  };
}

export type ApiKeyRefusal = 'unknown' | 'revoked' | 'expired' | 'scope';

export type ApiKeyVerification = { valid: true; keyId: string; userId: string; scopes: string[] } | { valid: false; reason: ApiKeyRefusal };

/** The user acting on their own keys, for the audit trail. */
export interface ApiKeyActor {
  userId: string;
  sessionId: string;
  client: ClientInfo;
}

/**
 * API keys users create for their own scripts, which a product verifies with
 * `bff.verifyApiKey` (or `iam.verifyApiKey` in library mode). OWASP ASVS 4.0 V2.10 (service
 * authentication): each script holds a secret of its own, never a shared or default password,
 * that its owner can revoke (V2.10.1, V2.10.2), and no key is kept in clear (V2.10.4).
 *
 * - **Entropy**: 256 bits from the CSPRNG (NIST SP 800-63B §5.1.2.1: look-up secrets come from
 *   an approved random bit generator; far above the 112 bits of §5.1.2.2).
 * - **At rest**: only the key's SHA-256 is stored, under a unique index (the key's own `iam_`
 *   separates it from the service's other hashed secrets, which carry prefixes of theirs). At
 *   ≥ 112 bits an approved one-way hash is what NIST SP 800-63B §5.1.2.2 asks (no slow KDF:
 *   nothing to brute force). The key is shown once, by `create`; `prefix` keeps 48 of its bits
 *   for display.
 * - **Comparison**: by looking the hash up, so nothing the caller sent is compared byte by byte
 *   against a stored secret, and timing tells nothing about a key.
 * - **State**: revocation, expiry and the owner being disabled or deleted apply at once: every
 *   verification reads the key's row and its owner's (no cache), as ASVS V3.5 asks of tokens
 *   checked against the server's state.
 * - **Abuse**: each verification counts against `apiKeyVerificationsPerKey`, keyed by the key's
 *   hash, never the key (ASVS V2.2.1, anti-automation); past it, `RATE_LIMITED`.
 */
export function createApiKeyService(deps: { db: Database; clock: Clock; limits: RateLimits; maxKeysPerUser?: number }) {
  const { db, clock } = deps;
  const maxKeysPerUser = deps.maxKeysPerUser ?? defaultMaxApiKeysPerUser;

  /**
   * Records the key's use at most once a minute: skipped when the row read says it was recent,
   * and otherwise conditional in the UPDATE's WHERE, so instances verifying the same key at
   * once write it once.
   */
  async function touch(row: ApiKeyRow, now: Date): Promise<void> {
    const due = addSeconds(now, -lastUsedResolutionInSeconds);
    if (row.lastUsedAt && row.lastUsedAt > due) return;
    await db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.id, row.id), or(isNull(apiKeys.lastUsedAt), lte(apiKeys.lastUsedAt, due))));
  }

  return {
    /**
     * A new key for the actor: returned once, here, and never again (only its hash is kept).
     * Refused with `API_KEY_LIMIT_REACHED` when the user already holds `maxKeysPerUser` live keys.
     */
    async create(
      actor: ApiKeyActor,
      input: { name: string; scopes: readonly string[]; expiresInDays?: number | undefined },
    ): Promise<{ id: string; key: string }> {
      const key = `${apiKeyPrefix}${randomToken(32)}`;
      const now = clock.now();
      const row: ApiKeyRow = {
        id: newId('apiKey'),
        userId: actor.userId,
        name: input.name,
        prefix: key.slice(0, displayPrefixLength),
        keyHash: sha256Hex(key),
        scopes: [...new Set(input.scopes)].sort(),
        createdAt: now,
        lastUsedAt: null,
        expiresAt: input.expiresInDays === undefined ? null : addSeconds(now, input.expiresInDays * 24 * 3600),
        revokedAt: null,
      };
      await runTransaction(db, async (tx) => {
        // The user row taken (written): two creations at once, on any instance or cluster node,
        // cannot both pass the cap, and a user being disabled or deleted meanwhile is seen.
        const account = await claimAccount(tx, actor.userId, now);
        if (!account) throw new IamError('UNAUTHENTICATED');
        if (account.disabledAt) throw new IamError('USER_DISABLED');
        const user = { id: actor.userId };
        const [live] = await tx
          .select({ n: count() })
          .from(apiKeys)
          .where(and(eq(apiKeys.userId, user.id), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))));
        if ((live?.n ?? 0) >= maxKeysPerUser) throw new IamError('API_KEY_LIMIT_REACHED');
        await tx.insert(apiKeys).values(row);
        await recordAudit(tx, {
          type: 'api_key.created',
          at: now,
          userId: user.id,
          sessionId: actor.sessionId,
          client: actor.client,
          data: { apiKeyId: row.id, prefix: row.prefix, scopes: row.scopes, expiresAt: row.expiresAt?.toISOString() ?? null },
        });
      });
      return { id: row.id, key };
    },

    /** The user's keys that are not revoked (expired ones included, with their `expiresAt`), newest first; never a key or its hash. */
    async list(userId: string): Promise<ApiKeySummary[]> {
      const rows = await db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
      return rows.map(toApiKeySummary);
    },

    /** Revokes one of the actor's keys, at once; `NOT_FOUND` for a key that is not theirs. Revoking it again changes nothing. */
    async revoke(actor: ApiKeyActor, id: string): Promise<{ status: 'revoked' }> {
      const now = clock.now();
      await runTransaction(db, async (tx) => {
        const [row] = await tx
          .select({ id: apiKeys.id, prefix: apiKeys.prefix, revokedAt: apiKeys.revokedAt })
          .from(apiKeys)
          .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, actor.userId)))
          .for('update');
        if (!row) throw new IamError('NOT_FOUND');
        if (row.revokedAt) return;
        await tx.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, row.id));
        await recordAudit(tx, {
          type: 'api_key.revoked',
          at: now,
          userId: actor.userId,
          sessionId: actor.sessionId,
          client: actor.client,
          data: { apiKeyId: row.id, prefix: row.prefix },
        });
      });
      return { status: 'revoked' };
    },

    /**
     * Whether a key is live and holds every scope asked for. A bad key is an answer, never an
     * error: `unknown` (malformed or not issued here), `revoked` (by its owner, or its owner is
     * disabled or deleted), `expired`, `scope` (a scope asked for is missing). Only
     * `RATE_LIMITED` is thrown, past `apiKeyVerificationsPerKey`.
     */
    async verify(key: string, requiredScopes: readonly string[] = []): Promise<ApiKeyVerification> {
      // Not the shape of a key this service issues: nothing to look up or count.
      if (!apiKeyPattern.test(key)) return { valid: false, reason: 'unknown' };
      const keyHash = sha256Hex(key);
      await consumeLimits(deps.limits, [['apiKeyVerificationsPerKey', keyHash]]);
      const [found] = await db
        .select({ key: apiKeys, ownerId: users.id, ownerDisabledAt: users.disabledAt })
        .from(apiKeys)
        .leftJoin(users, eq(users.id, apiKeys.userId))
        .where(eq(apiKeys.keyHash, keyHash))
        .limit(1);
      if (!found) return { valid: false, reason: 'unknown' };
      const { key: row } = found;
      const now = clock.now();
      if (row.revokedAt || !found.ownerId || found.ownerDisabledAt) return { valid: false, reason: 'revoked' };
      if (row.expiresAt && row.expiresAt <= now) return { valid: false, reason: 'expired' };
      // The key is authentic and live: its use is recorded even when a scope is missing.
      await touch(row, now);
      const held = new Set(row.scopes);
      if (!requiredScopes.every((scope) => held.has(scope))) return { valid: false, reason: 'scope' };
      return { valid: true, keyId: row.id, userId: row.userId, scopes: row.scopes };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
