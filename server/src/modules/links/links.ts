import { and, eq, isNull, type SQL } from 'drizzle-orm';
import type { Executor, Transaction } from '../../db/client';
import { type LinkRow, links } from '../../db/tables';
import { addSeconds } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';

/**
 * Single-use emailed links: the one owner of the `links` table. A link is issued (only the
 * hash of its secret is stored), spent once under a row lock, and retired when something
 * newer or a change of the account makes it void.
 */

/** Link secrets carry 256 bits (OWASP ASVS 4.0 V3.2.2 asks ≥ 64 bits for session tokens). */
export const linkTokenBytes = 32;

/** The secret in a link's URL is a 256-bit random value, so a plain SHA-256 is the right hash at rest. */
export function hashLinkToken(token: string): string {
  return sha256Hex(`link:${token}`);
}

export interface LinkToIssue {
  purpose: string;
  userId: string;
  ttlInSeconds: number;
  /** The challenge the link completes, when it is one of a challenge's ways in. */
  challengeId?: string;
  /** Purpose-specific state, read back when the link is spent. */
  data?: Record<string, unknown>;
}

/** Stores a new link in the caller's transaction and returns the secret for its URL (never stored). */
export async function issueLink(executor: Executor, link: LinkToIssue, now: Date): Promise<string> {
  const token = randomToken(linkTokenBytes);
  await executor.insert(links).values({
    id: newId('link'),
    tokenHash: hashLinkToken(token),
    purpose: link.purpose,
    userId: link.userId,
    challengeId: link.challengeId ?? null,
    createdAt: now,
    expiresAt: addSeconds(now, link.ttlInSeconds),
    data: link.data ?? null,
  });
  return token;
}

/** The link row of a token (the unique index on its hash): at most one. */
function selectByToken(executor: Executor, token: string) {
  return executor
    .select()
    .from(links)
    .where(eq(links.tokenHash, hashLinkToken(token)))
    .limit(1);
}

function isLive(link: LinkRow, purpose: string | readonly string[], now: Date): boolean {
  const purposeMatches = typeof purpose === 'string' ? link.purpose === purpose : purpose.includes(link.purpose);
  return purposeMatches && link.usedAt === null && link.expiresAt > now;
}

/**
 * Spends a link: locks its row, and when it is live and of this purpose (and, if given, of
 * this challenge) marks it used in the caller's transaction and returns it. Anything else
 * (unknown, used, expired, another purpose) is null, so callers answer `LINK_INVALID` alike.
 * The lock makes parallel spends of one link succeed once (OWASP ASVS 4.0 V2.5.x, single use).
 */
export async function spendLink(
  tx: Transaction,
  input: { token: string; purpose: string | readonly string[]; challengeId?: string },
  now: Date,
): Promise<LinkRow | null> {
  const [link] = await selectByToken(tx, input.token).for('update');
  if (!link || !isLive(link, input.purpose, now)) return null;
  if (input.challengeId !== undefined && link.challengeId !== input.challengeId) return null;
  await tx.update(links).set({ usedAt: now }).where(eq(links.id, link.id));
  return link;
}

/** A link as it stands, read without a lock and without spending it (null when not live). */
export async function findLiveLink(
  executor: Executor,
  input: { token: string; purpose: string | readonly string[] },
  now: Date,
): Promise<LinkRow | null> {
  const [link] = await selectByToken(executor, input.token);
  return link && isLive(link, input.purpose, now) ? link : null;
}

/** The challenge a link belongs to, whatever its state (to take the challenge's lock first). */
export async function challengeIdOfLink(executor: Executor, token: string): Promise<string | null> {
  const [link] = await executor
    .select({ challengeId: links.challengeId })
    .from(links)
    .where(eq(links.tokenHash, hashLinkToken(token)))
    .limit(1);
  return link?.challengeId ?? null;
}

/**
 * Retires the outstanding links of a challenge, or of a user (of one purpose, or all of them):
 * a newer link, a used code or a change of the account makes them void. Every filter is served
 * by an index (`links_challenge_idx`, `links_user_purpose_idx`), so no unrelated row is locked.
 */
export async function retireLinks(
  executor: Executor,
  which: { challengeId: string } | { userId: string; purpose?: string },
  now: Date,
): Promise<void> {
  const filters: SQL[] = [isNull(links.usedAt)];
  if ('challengeId' in which) filters.push(eq(links.challengeId, which.challengeId));
  else {
    filters.push(eq(links.userId, which.userId));
    if (which.purpose !== undefined) filters.push(eq(links.purpose, which.purpose));
  }
  await executor
    .update(links)
    .set({ usedAt: now })
    .where(and(...filters));
}
