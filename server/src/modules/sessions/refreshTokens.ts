import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Executor, Transaction } from '../../db/client';
import { type RefreshTokenRow, refreshTokens, sessions } from '../../db/tables';
import { sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import { deriveKey, open, seal } from '../crypto/seal';

/**
 * The refresh-token family of a session: one row per generation, only hashes stored, each
 * spent once. A spent row keeps its successor sealed under a key derived from the spent token
 * itself, so a grace retry can be answered with the same successor while nothing usable rests
 * in the database (RFC 9700 §4.14.2, rotation with reuse detection).
 */

/** RFC 9700 §4.14.2 and NIST SP 800-63B §7.1 (session secrets): 256 bits from a CSPRNG, only the hash stored. */
const refreshTokenBytes = 32;
const successorPurpose = 'refresh-successor';
/** How many rotations a grace retry may walk forward to find the live token. */
const maxGraceChainLength = 8;

/** A 256-bit random token needs no slow hash: SHA-256 is right at rest. */
export function hashRefreshToken(token: string): string {
  return sha256Hex(`refresh:${token}`);
}

/** The successor of a spent token, sealed under a key derived from the spent token (kept on the spent row). */
export function sealSuccessor(presented: string, rowId: string, successor: string): string {
  return seal(deriveKey(presented, successorPurpose), successor, `${successorPurpose}:${rowId}`);
}

function openSuccessor(presented: string, rowId: string, sealed: string): string | null {
  return open(deriveKey(presented, successorPurpose), sealed, `${successorPurpose}:${rowId}`);
}

/** A new generation of a session's family: its token (shown once, never stored) and the row that keeps its hash. */
export function newRefreshToken(
  input: { sessionId: string; generation: number; parentId: string | null },
  now: Date,
): { token: string; row: typeof refreshTokens.$inferInsert & { id: string } } {
  const token = randomToken(refreshTokenBytes);
  return { token, row: { id: newId('refreshToken'), tokenHash: hashRefreshToken(token), createdAt: now, ...input } };
}

/** Adds a generation to a session's family and returns its token (shown once, never stored). */
export async function issueRefreshToken(
  tx: Transaction,
  input: { sessionId: string; generation: number; parentId: string | null },
  now: Date,
): Promise<{ id: string; token: string }> {
  const { token, row } = newRefreshToken(input, now);
  await tx.insert(refreshTokens).values(row);
  return { id: row.id, token };
}

/** The row of a presented token, locked (SELECT … FOR UPDATE) so concurrent presentations are serialised. */
export async function lockRefreshToken(tx: Transaction, presented: string): Promise<RefreshTokenRow | null> {
  const [row] = await tx
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashRefreshToken(presented)))
    .for('update');
  return row ?? null;
}

/**
 * A spent token presented again within the grace window: walks the sealed successors forward
 * (two tabs may have rotated twice) to the live token and returns it; null when the window has
 * passed, the chain is broken, or the token was never spent.
 */
export async function followGraceChain(
  tx: Transaction,
  presented: string,
  row: RefreshTokenRow,
  now: Date,
  graceInSeconds: number,
): Promise<string | null> {
  let token = presented;
  let current = row;
  for (let step = 0; step < maxGraceChainLength; step++) {
    if (current.usedAt === null) return step === 0 ? null : token;
    if (now.getTime() - current.usedAt.getTime() > graceInSeconds * 1000) return null;
    if (!current.successorSealed) return null;
    const successor = openSuccessor(token, current.id, current.successorSealed);
    if (successor === null) return null;
    const next = await lockRefreshToken(tx, successor);
    if (!next) return null;
    token = successor;
    current = next;
  }
  return null;
}

/** Spends every outstanding token of a session and starts a new generation (a challenge passed on its device). */
export async function restartRefreshFamily(tx: Transaction, sessionId: string, now: Date): Promise<string> {
  const [latest] = await tx
    .select({ generation: refreshTokens.generation })
    .from(refreshTokens)
    .where(eq(refreshTokens.sessionId, sessionId))
    .orderBy(desc(refreshTokens.generation))
    .limit(1);
  await tx
    .update(refreshTokens)
    .set({ usedAt: now })
    .where(and(eq(refreshTokens.sessionId, sessionId), isNull(refreshTokens.usedAt)));
  const { token } = await issueRefreshToken(tx, { sessionId, generation: (latest?.generation ?? 0) + 1, parentId: null }, now);
  return token;
}

/** The session a refresh token belongs to, whatever its state; for logout. */
export async function sessionOfRefreshToken(executor: Executor, presented: string): Promise<{ sessionId: string; userId: string } | null> {
  const [row] = await executor
    .select({ sessionId: sessions.id, userId: sessions.userId })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, hashRefreshToken(presented)))
    .limit(1);
  return row ?? null;
}
