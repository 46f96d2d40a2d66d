import { randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { type Database, runTransaction, type Transaction } from '../../db/client';
import { backupCodes, type TotpCredentialRow, totpCredentials, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ChallengeMethod, SecondFactorCheck } from '../challenges/challenges';
import { addSeconds, type Clock } from '../clock';
import { decodeBase32, encodeBase32 } from '../crypto/base32';
import { hmacSha256Hex } from '../crypto/hash';
import { deriveKey, open, seal } from '../crypto/seal';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { findUserById } from '../users/users';
import { generateBackupCodes, normalizeBackupCode } from './backupCodes';
import { isStepUpTokenLive, type StepUpBinding, spendStepUpToken } from './stepUpTokens';
import { matchTotpStep, otpauthUri, totpSecretBytes } from './totp';

/**
 * Throttling of second factors per account (RFC 4226 §7.3; NIST SP 800-63B §5.2.2: at most
 * 100 failed attempts, with delays between them): each challenge allows 5 wrong codes, but
 * whoever knows the password can open challenge after challenge, so the account itself
 * counts. After 10 consecutive wrong TOTP or backup codes, each further try must wait
 * 30 s, doubling with every failure up to 1 h: about 24 guesses a day at most (each a
 * ~3 in 10^6 chance against TOTP's three accepted codes), and never a lock for the owner
 * longer than an hour.
 */
export const throttleAfterFailures = 10;
const throttleBaseDelayInSeconds = 30;
const throttleMaxDelayInSeconds = 3600;

export function throttleDelayInSeconds(failedAttempts: number): number {
  if (failedAttempts < throttleAfterFailures) return 0;
  const doublings = Math.min(failedAttempts - throttleAfterFailures, 16);
  return Math.min(throttleMaxDelayInSeconds, throttleBaseDelayInSeconds * 2 ** doublings);
}

export type SecondFactorMethod = 'totp' | 'backup_code';
export const secondFactorMethods: readonly SecondFactorMethod[] = ['totp', 'backup_code'];

/**
 * TOTP enrolment and second-factor checks. The authenticator secret is sealed under a key
 * derived from `IAM_SECRET` and bound to its user; backup codes are HMAC-hashed with another
 * derived key, bound to their user, like challenge codes.
 */
export function createMfaService(deps: { db: Database; clock: Clock; secret: string; issuer: string }) {
  const { db, clock } = deps;
  const secretKey = deriveKey(deps.secret, 'totp-secret');
  const backupKey = deriveKey(deps.secret, 'backup-code');
  const sealPurpose = (userId: string) => `totp-secret:${userId}`;
  const hashBackupCode = (userId: string, normalized: string) => hmacSha256Hex(backupKey, `${userId}:${normalized}`);
  const seconds = (date: Date) => date.getTime() / 1000;

  function keyOf(row: TotpCredentialRow): Uint8Array | null {
    const secret = open(secretKey, row.secretSealed, sealPurpose(row.userId));
    return secret === null ? null : decodeBase32(secret);
  }

  async function lockCredential(tx: Transaction, userId: string): Promise<TotpCredentialRow | undefined> {
    const [row] = await tx.select().from(totpCredentials).where(eq(totpCredentials.userId, userId)).for('update');
    return row;
  }

  async function replaceBackupCodes(tx: Transaction, userId: string, now: Date): Promise<string[]> {
    const codes = generateBackupCodes();
    await tx.delete(backupCodes).where(eq(backupCodes.userId, userId));
    await tx
      .insert(backupCodes)
      .values(codes.map((code) => ({ userId, codeHash: hashBackupCode(userId, normalizeBackupCode(code) ?? code), createdAt: now })));
    return codes;
  }

  /**
   * Checks a second factor against a confirmed, locked credential: a TOTP code of a step
   * after the last accepted one (which it then becomes), else an unused backup code (which
   * it then spends). Every outcome is written in the caller's transaction.
   */
  async function checkLocked(
    tx: Transaction,
    row: TotpCredentialRow,
    code: string,
    methods: readonly ChallengeMethod[],
    now: Date,
  ): Promise<SecondFactorCheck> {
    const wait = throttleDelayInSeconds(row.failedAttempts);
    if (wait > 0 && row.lastFailedAt && addSeconds(row.lastFailedAt, wait) > now) {
      return { kind: 'throttled', retryAfterSeconds: Math.ceil((addSeconds(row.lastFailedAt, wait).getTime() - now.getTime()) / 1000) };
    }
    if (methods.includes('totp')) {
      const key = keyOf(row);
      const step = key ? matchTotpStep(key, code, seconds(now), row.lastUsedStep) : null;
      if (step !== null) {
        await tx
          .update(totpCredentials)
          .set({ lastUsedStep: step, failedAttempts: 0, lastFailedAt: null })
          .where(eq(totpCredentials.userId, row.userId));
        return { kind: 'accepted', method: 'totp' };
      }
    }
    const backup = methods.includes('backup_code') ? normalizeBackupCode(code) : null;
    if (backup) {
      const [spent] = await tx
        .update(backupCodes)
        .set({ usedAt: now })
        .where(
          and(eq(backupCodes.userId, row.userId), eq(backupCodes.codeHash, hashBackupCode(row.userId, backup)), isNull(backupCodes.usedAt)),
        );
      if (spent.affectedRows === 1) {
        await tx.update(totpCredentials).set({ failedAttempts: 0, lastFailedAt: null }).where(eq(totpCredentials.userId, row.userId));
        await recordAudit(tx, { type: 'mfa.backup_code_used', at: now, userId: row.userId });
        return { kind: 'accepted', method: 'backup_code' };
      }
    }
    await tx
      .update(totpCredentials)
      .set({ failedAttempts: Math.min(row.failedAttempts + 1, 30_000), lastFailedAt: now })
      .where(eq(totpCredentials.userId, row.userId));
    return { kind: 'wrong' };
  }

  return {
    /**
     * Starts (or restarts) an enrolment: a new 160-bit secret, pending until `confirmTotp`.
     * An enrolled authenticator is never replaced this way: disabling it needs a step-up.
     */
    async beginTotp(userId: string): Promise<{ secret: string; otpauthUri: string }> {
      const user = await findUserById(db, userId);
      if (!user) throw new IamError('UNAUTHENTICATED');
      const secret = encodeBase32(randomBytes(totpSecretBytes));
      const now = clock.now();
      const values = {
        secretSealed: seal(secretKey, secret, sealPurpose(user.id)),
        createdAt: now,
        confirmedAt: null,
        lastUsedStep: null,
        failedAttempts: 0,
        lastFailedAt: null,
      };
      await runTransaction(db, async (tx) => {
        const row = await lockCredential(tx, user.id);
        if (row?.confirmedAt) throw new IamError('TOTP_ALREADY_ENABLED');
        await tx
          .insert(totpCredentials)
          .values({ userId: user.id, ...values })
          .onDuplicateKeyUpdate({ set: values });
      });
      return { secret, otpauthUri: otpauthUri({ issuer: deps.issuer, accountName: user.email, secret }) };
    },

    /**
     * Confirms the pending enrolment with a code from the app (which counts as used), turns
     * TOTP on and returns 10 fresh backup codes, shown this once.
     */
    async confirmTotp(
      input: { userId: string; sessionId: string; code: string },
      client: ClientInfo,
      /** Runs in the transaction that turns TOTP on (to queue the owner's alert with it). */
      onChanged?: (tx: Transaction) => Promise<void>,
    ): Promise<{ backupCodes: string[] }> {
      const now = clock.now();
      const outcome = await runTransaction(db, async (tx) => {
        const row = await lockCredential(tx, input.userId);
        if (row?.confirmedAt) return { kind: 'error', code: 'TOTP_ALREADY_ENABLED' } as const;
        const key = row ? keyOf(row) : null;
        const step = row && key ? matchTotpStep(key, input.code, seconds(now), row.lastUsedStep) : null;
        if (step === null) return { kind: 'error', code: 'CODE_INVALID' } as const;
        await tx
          .update(totpCredentials)
          .set({ confirmedAt: now, lastUsedStep: step, failedAttempts: 0, lastFailedAt: null })
          .where(eq(totpCredentials.userId, input.userId));
        await tx.update(users).set({ totpEnabledAt: now, updatedAt: now }).where(eq(users.id, input.userId));
        const codes = await replaceBackupCodes(tx, input.userId, now);
        await recordAudit(tx, { type: 'mfa.totp_enabled', at: now, userId: input.userId, sessionId: input.sessionId, client });
        await onChanged?.(tx);
        return { kind: 'ok', codes } as const;
      });
      if (outcome.kind === 'error') throw new IamError(outcome.code);
      return { backupCodes: outcome.codes };
    },

    /**
     * Turns TOTP off: needs a live step-up token for `totp_disable` in this session and a
     * fresh second factor (a TOTP code not used before, or a backup code). A wrong code is
     * counted toward the account's throttle and leaves the token unspent; the right one
     * spends it, and deletes the secret and every backup code.
     */
    async disableTotp(
      input: { userId: string; sessionId: string; code: string; stepUpToken: string | undefined },
      client: ClientInfo,
      /** Runs in the transaction that turns TOTP off. */
      onChanged?: (tx: Transaction) => Promise<void>,
    ): Promise<{ status: 'disabled' }> {
      const now = clock.now();
      const binding: StepUpBinding = { sessionId: input.sessionId, action: 'totp_disable', stepUpToken: input.stepUpToken };
      const outcome = await runTransaction(db, async (tx) => {
        if (!(await isStepUpTokenLive(tx, binding, now, true))) return { kind: 'error', code: 'STEP_UP_REQUIRED' } as const;
        const row = await lockCredential(tx, input.userId);
        if (!row?.confirmedAt) return { kind: 'error', code: 'CODE_INVALID' } as const;
        const check = await checkLocked(tx, row, input.code, secondFactorMethods, now);
        if (check.kind === 'throttled') return { kind: 'error', code: 'RATE_LIMITED', retryAfterSeconds: check.retryAfterSeconds } as const;
        if (check.kind === 'wrong') return { kind: 'error', code: 'CODE_INVALID' } as const;
        if (!(await spendStepUpToken(tx, binding, now))) return { kind: 'error', code: 'STEP_UP_REQUIRED' } as const;
        await tx.delete(totpCredentials).where(eq(totpCredentials.userId, input.userId));
        await tx.delete(backupCodes).where(eq(backupCodes.userId, input.userId));
        await tx.update(users).set({ totpEnabledAt: null, updatedAt: now }).where(eq(users.id, input.userId));
        await recordAudit(tx, { type: 'mfa.totp_disabled', at: now, userId: input.userId, sessionId: input.sessionId, client });
        await onChanged?.(tx);
        return { kind: 'ok' } as const;
      });
      if (outcome.kind === 'error') {
        const { retryAfterSeconds } = outcome;
        throw new IamError(outcome.code, retryAfterSeconds === undefined ? {} : { retryAfterSeconds: Math.max(1, retryAfterSeconds) });
      }
      return { status: 'disabled' };
    },

    /**
     * The second-factor check of a challenge (`consumeCode`), inside its locked transaction:
     * locks the user's credential (challenge row first, then credential: one lock order).
     */
    async check(tx: Transaction, userId: string, code: string, methods: readonly ChallengeMethod[]): Promise<SecondFactorCheck> {
      const row = await lockCredential(tx, userId);
      if (!row?.confirmedAt) return { kind: 'wrong' };
      return checkLocked(tx, row, code, methods, clock.now());
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
