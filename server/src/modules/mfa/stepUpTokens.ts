import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Executor, Transaction } from '../../db/client';
import { stepUpTokens } from '../../db/tables';
import { addSeconds } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { randomToken } from '../crypto/random';

/**
 * A step-up token proves a second factor presented moments ago, for one action in one
 * session (NIST SP 800-63B §4.2.3 / OWASP ASVS 4.0 V2.7: re-authenticate before sensitive
 * operations). 5 minutes is enough to finish the form that asked for it; it is spent once.
 */
export const stepUpTokenTtlInSeconds = 5 * 60;
/** 256 bits from a CSPRNG, like refresh and link tokens: a plain SHA-256 is the right hash. */
const stepUpTokenBytes = 32;

export interface StepUpBinding {
  sessionId: string;
  action: string;
  /** As the caller passed it; missing is refused like a wrong one. */
  stepUpToken: string | null | undefined;
}

export function hashStepUpToken(token: string): string {
  return sha256Hex(`step-up:${token}`);
}

/** Issues a token inside the transaction that accepted the second factor. */
export async function issueStepUpToken(
  tx: Transaction,
  input: { userId: string; sessionId: string; action: string },
  now: Date,
): Promise<{ stepUpToken: string; expiresAt: Date }> {
  // The user's spent and expired tokens go as new ones come, so the table stays small.
  await tx.delete(stepUpTokens).where(and(eq(stepUpTokens.userId, input.userId), lt(stepUpTokens.expiresAt, now)));
  const stepUpToken = randomToken(stepUpTokenBytes);
  const expiresAt = addSeconds(now, stepUpTokenTtlInSeconds);
  await tx.insert(stepUpTokens).values({
    tokenHash: hashStepUpToken(stepUpToken),
    userId: input.userId,
    sessionId: input.sessionId,
    action: input.action,
    createdAt: now,
    expiresAt,
  });
  return { stepUpToken, expiresAt };
}

function liveToken(binding: StepUpBinding & { stepUpToken: string }, now: Date) {
  return and(
    eq(stepUpTokens.tokenHash, hashStepUpToken(binding.stepUpToken)),
    eq(stepUpTokens.sessionId, binding.sessionId),
    eq(stepUpTokens.action, binding.action),
    isNull(stepUpTokens.usedAt),
    gt(stepUpTokens.expiresAt, now),
  );
}

/**
 * Whether the token is live for this session and action, without spending it; with a
 * transaction, the row stays locked until it commits (check, do the work, then spend).
 */
export async function isStepUpTokenLive(executor: Executor, binding: StepUpBinding, now: Date, lock = false): Promise<boolean> {
  if (!binding.stepUpToken) return false;
  const query = executor
    .select({ tokenHash: stepUpTokens.tokenHash })
    .from(stepUpTokens)
    .where(liveToken({ ...binding, stepUpToken: binding.stepUpToken }, now));
  const rows = lock ? await query.for('update') : await query;
  return rows.length === 1;
}

/**
 * Spends the token in one statement: of any number of parallel callers, exactly one sees
 * `true`. A token for another session or action, used, expired or unknown gives `false`.
 */
export async function spendStepUpToken(executor: Executor, binding: StepUpBinding, now: Date): Promise<boolean> {
  if (!binding.stepUpToken) return false;
  const [result] = await executor
    .update(stepUpTokens)
    .set({ usedAt: now })
    .where(liveToken({ ...binding, stepUpToken: binding.stepUpToken }, now));
  return result.affectedRows === 1;
}
