import { eq } from 'drizzle-orm';
import { type Database, runTransaction, type Transaction } from '../../db/client';
import { type ChallengeRow, challenges } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { addSeconds, type Clock } from '../clock';
import { constantTimeEqual, hmacSha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomDigits } from '../crypto/random';
import { deriveKey } from '../crypto/seal';
import { IamError } from '../errors/iamError';
import type { Lifetimes } from '../lifetimes';
import { challengeIdOfLink, issueLink, retireLinks, spendLink } from '../links/links';

export type ChallengePurpose = 'verify_email' | 'login' | 'refresh' | 'step_up' | 'sign_in';

/** How a challenge may be answered (docs/api.md `Challenge.methods`). */
export type ChallengeMethod = 'email_otp' | 'totp' | 'backup_code' | 'passkey';

/** The outcome of checking a TOTP or backup code against the challenged user's authenticator. */
export type SecondFactorCheck =
  | { kind: 'accepted'; method: 'totp' | 'backup_code' }
  | { kind: 'wrong' }
  | { kind: 'throttled'; retryAfterSeconds: number };

/** Checks a TOTP or backup code inside the challenge's locked transaction (`modules/mfa`). */
export type SecondFactorChecker = (
  tx: Transaction,
  userId: string,
  code: string,
  methods: readonly ChallengeMethod[],
) => Promise<SecondFactorCheck>;

const challengeMethods: readonly ChallengeMethod[] = ['email_otp', 'totp', 'backup_code', 'passkey'];

/**
 * The methods a challenge accepts: `data.methods` when it lists them (a TOTP challenge sends
 * no email, so its unsent code must never open it), else the emailed code alone.
 */
export function challengeMethodsOf(challenge: Pick<ChallengeRow, 'data'>): ChallengeMethod[] {
  const listed = challenge.data?.methods;
  if (!Array.isArray(listed)) return ['email_otp'];
  return challengeMethods.filter((method) => listed.includes(method));
}

/** NIST SP 800-63B §5.1.3.2 / docs/api.md: at least 6 digits, 5 wrong tries end the challenge. */
export const codeDigits = 6;
export const maxCodeAttempts = 5;
/** docs/api.md: at most 3 resends per challenge; a resend may follow the last send after this. */
export const maxResends = 3;
export const resendSpacingInSeconds = 10;

export interface IssuedChallenge {
  challengeId: string;
  code: string;
  linkToken: string;
  expiresAt: Date;
}

function purposeMatches(actual: string, expected: ChallengePurpose | readonly ChallengePurpose[]): boolean {
  return typeof expected === 'string' ? actual === expected : (expected as readonly string[]).includes(actual);
}

/**
 * Codes are short, so a plain hash would fall to an offline search of a database copy:
 * they are hashed with a key derived from `IAM_SECRET`, bound to their challenge.
 */
export function createChallengeService(deps: {
  db: Database;
  clock: Clock;
  secret: string;
  lifetimes: Lifetimes;
  /** Checks TOTP and backup codes for challenges whose `data.methods` allow them. */
  secondFactor?: SecondFactorChecker;
}) {
  const codeKey = deriveKey(deps.secret, 'challenge-code');
  const hashCode = (challengeId: string, code: string) => hmacSha256Hex(codeKey, `${challengeId}:${code}`);

  function insertLink(
    tx: Transaction,
    input: { userId: string; purpose: ChallengePurpose; challengeId: string },
    now: Date,
  ): Promise<string> {
    // A link never outlives its challenge.
    const ttlInSeconds = Math.min(deps.lifetimes.linkTtlInSeconds, deps.lifetimes.codeTtlInSeconds);
    return issueLink(tx, { ...input, ttlInSeconds }, now);
  }

  return {
    /**
     * A new code challenge and its emailed link, inside the caller's transaction. Pass
     * `data.methods` (e.g. `['totp', 'backup_code']`) for a challenge answered otherwise than
     * by the emailed code; without `email_otp` among them, no code is ever sent or accepted.
     */
    async issue(
      tx: Transaction,
      input: { userId: string; purpose: ChallengePurpose; data?: Record<string, unknown>; withLink?: boolean },
    ): Promise<IssuedChallenge> {
      const now = deps.clock.now();
      const challengeId = newId('challenge');
      const code = randomDigits(codeDigits);
      const expiresAt = addSeconds(now, deps.lifetimes.codeTtlInSeconds);
      await tx.insert(challenges).values({
        id: challengeId,
        userId: input.userId,
        purpose: input.purpose,
        codeHash: hashCode(challengeId, code),
        attempts: 0,
        resends: 0,
        createdAt: now,
        expiresAt,
        lastSentAt: now,
        // A challenge issued without a link gets none on resend either.
        data: input.withLink === false ? { ...input.data, withLink: false } : (input.data ?? null),
      });
      const linkToken =
        input.withLink === false ? '' : await insertLink(tx, { userId: input.userId, purpose: input.purpose, challengeId }, now);
      return { challengeId, code, linkToken, expiresAt };
    },

    /**
     * Replaces a live challenge's code (and link) with a new one; the old ones stop working.
     * Wrong tries are not forgiven by a resend, so resending buys no extra guesses.
     */
    async resend(challengeId: string): Promise<IssuedChallenge & { userId: string; purpose: ChallengePurpose; decoy: boolean }> {
      const now = deps.clock.now();
      const outcome = await runTransaction(deps.db, async (tx) => {
        const [row] = await tx.select().from(challenges).where(eq(challenges.id, challengeId)).for('update');
        // Nothing to resend for a challenge answered by an authenticator app or a backup code.
        if (!row || row.consumedAt !== null || row.expiresAt <= now || !challengeMethodsOf(row).includes('email_otp'))
          return { kind: 'error', code: 'CHALLENGE_INVALID' } as const;
        if (row.attempts >= maxCodeAttempts) return { kind: 'error', code: 'CHALLENGE_EXHAUSTED' } as const;
        const lastSentAt = row.lastSentAt ?? row.createdAt;
        if (row.resends >= maxResends) return { kind: 'error', code: 'RATE_LIMITED', retryAfterSeconds: 0 } as const;
        const wait = Math.ceil((lastSentAt.getTime() + resendSpacingInSeconds * 1000 - now.getTime()) / 1000);
        if (wait > 0) return { kind: 'error', code: 'RATE_LIMITED', retryAfterSeconds: wait } as const;
        const code = randomDigits(codeDigits);
        const expiresAt = addSeconds(now, deps.lifetimes.codeTtlInSeconds);
        await tx
          .update(challenges)
          .set({ codeHash: hashCode(row.id, code), resends: row.resends + 1, lastSentAt: now, expiresAt })
          .where(eq(challenges.id, row.id));
        await retireLinks(tx, { challengeId: row.id }, now);
        const linkToken =
          row.data?.withLink === false
            ? ''
            : await insertLink(tx, { userId: row.userId, purpose: row.purpose as ChallengePurpose, challengeId: row.id }, now);
        return {
          kind: 'ok',
          value: {
            challengeId: row.id,
            code,
            linkToken,
            expiresAt,
            userId: row.userId,
            purpose: row.purpose as ChallengePurpose,
            decoy: row.data?.decoy === true,
          },
        } as const;
      });
      if (outcome.kind === 'error') {
        throw new IamError(
          outcome.code,
          outcome.code === 'RATE_LIMITED' ? { retryAfterSeconds: Math.max(1, outcome.retryAfterSeconds) } : {},
        );
      }
      return outcome.value;
    },

    /**
     * Checks a code and, when right, consumes the challenge and runs `onSuccess` in the same
     * transaction. A wrong code is counted (committed) before the error is thrown; the fifth
     * wrong code kills the challenge. The row lock serialises parallel guesses, so the
     * budget holds under any concurrency.
     *
     * A challenge whose `data.methods` list `totp` or `backup_code` also takes, in the same
     * locked transaction, a TOTP code of a step not used before (RFC 6238 §5.2) or an unused
     * backup code (spent on success); a wrong one counts like a wrong emailed code. While the
     * account's second factor is throttled the try is refused with `RATE_LIMITED` and not
     * counted. `accept` lets the caller refuse a challenge bound to something else (a session)
     * before any code is judged.
     */
    async consumeCode<T>(
      input: {
        challengeId: string;
        code: string;
        purpose: ChallengePurpose | readonly ChallengePurpose[];
        accept?: (challenge: ChallengeRow) => boolean;
      },
      onSuccess: (tx: Transaction, challenge: ChallengeRow, method: ChallengeMethod) => Promise<T>,
    ): Promise<T> {
      const now = deps.clock.now();
      const outcome = await runTransaction(deps.db, async (tx) => {
        const [row] = await tx.select().from(challenges).where(eq(challenges.id, input.challengeId)).for('update');
        if (!row || !purposeMatches(row.purpose, input.purpose) || (input.accept && !input.accept(row)))
          return { kind: 'error', code: 'CHALLENGE_INVALID' } as const;
        if (row.attempts >= maxCodeAttempts) return { kind: 'error', code: 'CHALLENGE_EXHAUSTED' } as const;
        if (row.consumedAt !== null || row.expiresAt <= now) return { kind: 'error', code: 'CODE_INVALID' } as const;
        const methods = challengeMethodsOf(row);
        let method: ChallengeMethod | null =
          methods.includes('email_otp') && constantTimeEqual(hashCode(row.id, input.code), row.codeHash) ? 'email_otp' : null;
        if (method === null && deps.secondFactor && (methods.includes('totp') || methods.includes('backup_code'))) {
          const check = await deps.secondFactor(tx, row.userId, input.code, methods);
          if (check.kind === 'throttled')
            return { kind: 'error', code: 'RATE_LIMITED', retryAfterSeconds: check.retryAfterSeconds } as const;
          if (check.kind === 'accepted') method = check.method;
        }
        if (method === null) {
          const attempts = row.attempts + 1;
          await tx.update(challenges).set({ attempts }).where(eq(challenges.id, row.id));
          // Each wrong answer is in the owner's trail (OWASP ASVS 4.0 V7.2.1: authentication failures are logged).
          await recordAudit(tx, {
            type: 'challenge.failed',
            at: now,
            userId: row.userId,
            data: { challenge: row.id, purpose: row.purpose, attempts, exhausted: attempts >= maxCodeAttempts },
          });
          return { kind: 'error', code: attempts >= maxCodeAttempts ? 'CHALLENGE_EXHAUSTED' : 'CODE_INVALID' } as const;
        }
        await tx.update(challenges).set({ consumedAt: now }).where(eq(challenges.id, row.id));
        await retireLinks(tx, { challengeId: row.id }, now);
        return { kind: 'ok', value: await onSuccess(tx, row, method) } as const;
      });
      if (outcome.kind === 'error') {
        throw new IamError(
          outcome.code,
          outcome.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: Math.max(1, outcome.retryAfterSeconds) },
        );
      }
      return outcome.value;
    },

    /**
     * Consumes a challenge answered with a passkey: the caller verified an assertion of a
     * passkey of `userId` for this challenge (a ceremony opened for it). The challenge must
     * list `passkey`, be live, and belong to that user; `onSuccess` runs in the locked
     * transaction, as with a code.
     */
    async consumeWithPasskey<T>(
      input: {
        challengeId: string;
        userId: string;
        purpose: ChallengePurpose | readonly ChallengePurpose[];
        accept?: (challenge: ChallengeRow) => boolean;
      },
      onSuccess: (tx: Transaction, challenge: ChallengeRow, method: ChallengeMethod) => Promise<T>,
    ): Promise<T> {
      const now = deps.clock.now();
      const outcome = await runTransaction(deps.db, async (tx) => {
        const [row] = await tx.select().from(challenges).where(eq(challenges.id, input.challengeId)).for('update');
        if (!row || !purposeMatches(row.purpose, input.purpose) || (input.accept && !input.accept(row)) || row.userId !== input.userId)
          return { kind: 'error', code: 'CHALLENGE_INVALID' } as const;
        if (row.attempts >= maxCodeAttempts) return { kind: 'error', code: 'CHALLENGE_EXHAUSTED' } as const;
        if (row.consumedAt !== null || row.expiresAt <= now || !challengeMethodsOf(row).includes('passkey'))
          return { kind: 'error', code: 'CHALLENGE_INVALID' } as const;
        await tx.update(challenges).set({ consumedAt: now }).where(eq(challenges.id, row.id));
        await retireLinks(tx, { challengeId: row.id }, now);
        return { kind: 'ok', value: await onSuccess(tx, row, 'passkey') } as const;
      });
      if (outcome.kind === 'error') throw new IamError(outcome.code);
      return outcome.value;
    },

    /** The live challenge a passkey ceremony is being opened for, when it takes a passkey. */
    async forPasskey(challengeId: string): Promise<{ challengeId: string; userId: string } | null> {
      const [row] = await deps.db.select().from(challenges).where(eq(challenges.id, challengeId)).limit(1);
      if (!row || row.consumedAt !== null || row.expiresAt <= deps.clock.now() || row.attempts >= maxCodeAttempts) return null;
      return challengeMethodsOf(row).includes('passkey') ? { challengeId: row.id, userId: row.userId } : null;
    },

    /** Consumes a single-use link of one purpose, and the challenge it belongs to. */
    async consumeLink<T>(
      input: { token: string; purpose: ChallengePurpose | readonly ChallengePurpose[] },
      onSuccess: (tx: Transaction, challenge: ChallengeRow) => Promise<T>,
    ): Promise<T> {
      const now = deps.clock.now();
      // Locks are taken challenge first, then link, as consumeCode and resend take them: the
      // opposite order deadlocks against the code of the same challenge sent at the same moment.
      // So the challenge is found with a plain read, outside the transaction, and both rows are
      // checked again once locked.
      const challengeId = await challengeIdOfLink(deps.db, input.token);
      if (!challengeId) throw new IamError('LINK_INVALID');
      const outcome = await runTransaction(deps.db, async (tx) => {
        const [row] = await tx.select().from(challenges).where(eq(challenges.id, challengeId)).for('update');
        if (!row || row.consumedAt !== null || row.attempts >= maxCodeAttempts || row.expiresAt <= now) return { kind: 'invalid' } as const;
        const link = await spendLink(tx, { token: input.token, purpose: input.purpose, challengeId }, now);
        if (!link) return { kind: 'invalid' } as const;
        await tx.update(challenges).set({ consumedAt: now }).where(eq(challenges.id, row.id));
        return { kind: 'ok', value: await onSuccess(tx, row) } as const;
      });
      if (outcome.kind === 'invalid') throw new IamError('LINK_INVALID');
      return outcome.value;
    },
  };
}

export type ChallengeService = ReturnType<typeof createChallengeService>;
