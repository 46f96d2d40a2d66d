import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import superjson, { type SuperJSONResult } from 'superjson';
import { runTransaction, type Transaction } from '../../db/client';
import { outboxMessages, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { findLiveLink, issueLink, retireLinks, spendLink } from '../links/links';
import type { OutboxMail } from '../outbox/outbox';
import { hashPassword } from '../users/password';
import { claimAccount, findUserByEmail, findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { claimMailBudget } from './mailBudget';
import { queuePasswordChangedNotice } from './passwordChanged';
import { queueMail } from './queueMail';
import { emailLink, type Services } from './services';

const resetPurpose = 'password_reset';

/**
 * Always answers `sent`, whether or not the address has an account; the mails to one address
 * are capped quietly (`claimMailBudget`: 3 an hour, then one per requesting network, and a
 * device of the account has its own budget), whatever the caller sees. The mail
 * goes out off the response path, so timing does not tell either (OWASP ASVS 4.0 V2.5.x).
 *
 * A newer link retires the older ones, so a reset mail the provider refused, still waiting in
 * the outbox for its retry, is withdrawn, and this one takes its place in the budget: a mail the
 * provider did not take uses up no cap, and after an outage the owner receives one mail, with
 * the link that works, instead of a late one for every request.
 */
export async function requestPasswordReset(services: Services, input: { email: string }, client: ClientInfo): Promise<{ status: 'sent' }> {
  const { db, clock, settings } = services;
  const user = await findUserByEmail(db, input.email);
  // Counted for unknown addresses too, so the work done does not tell them apart.
  const allowance = await claimMailBudget(services, 'passwordReset', input.email, client, user?.id ?? null);
  if (!user) return { status: 'sent' };
  if (!allowance) {
    services.metrics.mailsCapped.inc({ kind: 'passwordReset' });
    return { status: 'sent' };
  }

  const now = clock.now();
  const replacedRefusedMail = await runTransaction(db, async (tx) => {
    // Requests for one account take turns (its row taken, on every cluster node too): retiring
    // the older links and issuing the new one in parallel transactions deadlocked on the links index.
    await claimAccount(tx, user.id, now);
    // A newer link retires the older ones, and the refused mails that still carry them.
    await retireResetLinks(tx, user.id, now);
    const replaced = await withdrawRefusedResetMails(tx, user.id);
    const token = await issueLink(tx, { purpose: resetPurpose, userId: user.id, ttlInSeconds: settings.lifetimes.linkTtlInSeconds }, now);
    await recordAudit(tx, { type: 'password.reset_requested', at: now, userId: user.id, client });
    // Through the outbox, off the response path: the answer's timing tells nothing, and an
    // outage of the mail provider delays the link instead of losing it.
    await queueMail(services, tx, {
      userId: user.id,
      to: user.email,
      email: {
        template: 'password_reset',
        props: {
          productName: settings.productName,
          link: emailLink(settings, 'reset-password', token),
          expiresInMinutes: Math.round(settings.lifetimes.linkTtlInSeconds / 60),
        },
      },
    });
    return replaced;
  });
  // After the commit: a transaction run again must not give the point back twice.
  if (replacedRefusedMail) await allowance.refund();
  return { status: 'sent' };
}

/**
 * Deletes the user's reset mails that the provider refused and that wait in the outbox for a
 * retry (their links were just retired, so they could only arrive dead); answers whether there
 * was one. A mail no worker has tried yet is left to go out as usual. A row a worker is
 * claiming at this instant is locked and skipped; one whose retry is being sent right now (the
 * instant the provider recovers) may still arrive, with its dead link.
 */
async function withdrawRefusedResetMails(tx: Transaction, userId: string): Promise<boolean> {
  const refused = await tx
    .select({ id: outboxMessages.id, payload: outboxMessages.payload })
    .from(outboxMessages)
    .where(
      and(
        eq(outboxMessages.userId, userId),
        eq(outboxMessages.kind, 'mail'),
        eq(outboxMessages.state, 'pending'),
        isNotNull(outboxMessages.lastError),
      ),
    );
  const resetMailIds = refused.filter((row) => isResetMail(row.payload)).map((row) => row.id);
  if (resetMailIds.length === 0) return false;
  // By primary key, so only these rows are locked.
  const locked = await tx
    .select({ id: outboxMessages.id, state: outboxMessages.state })
    .from(outboxMessages)
    .where(inArray(outboxMessages.id, resetMailIds))
    .for('update', { skipLocked: true });
  const withdrawn = locked.filter((row) => row.state === 'pending').map((row) => row.id);
  if (withdrawn.length === 0) return false;
  await tx.delete(outboxMessages).where(inArray(outboxMessages.id, withdrawn));
  return true;
}

function isResetMail(payload: Record<string, unknown>): boolean {
  try {
    return superjson.deserialize<OutboxMail>(payload as unknown as SuperJSONResult).email.template === 'password_reset';
  } catch {
    return false;
  }
}

/**
 * Sets a new password from a single-use reset link, ends every session, and does not sign
 * in. Following the link proves control of the mailbox, so the address counts as verified.
 */
export async function resetPassword(
  services: Services,
  input: { token: string; password: string },
  client: ClientInfo,
): Promise<{ status: 'password_reset' }> {
  const { db, clock } = services;
  const holder = await linkHolder(services, input.token);
  if (!holder) throw new IamError('LINK_INVALID');
  await services.passwordPolicy.check(input.password, { email: holder.email, name: holder.name ?? undefined });
  const passwordHash = await hashPassword(input.password);
  const now = clock.now();
  const outcome = await runTransaction(db, async (tx) => {
    const link = await spendLink(tx, { token: input.token, purpose: resetPurpose }, now);
    if (!link) return null;
    const [user] = await tx.select().from(users).where(eq(users.id, link.userId)).for('update');
    if (!user) return null;
    await tx
      .update(users)
      .set({ passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? now, updatedAt: now })
      .where(eq(users.id, user.id));
    await retireResetLinks(tx, user.id, now);
    await recordAudit(tx, { type: 'password.reset', at: now, userId: user.id, client });
    await queuePasswordChangedNotice(services, tx, user, client);
    await emitSecurityEvent(services, tx, { type: 'password.changed', userId: user.id, data: { method: 'reset' } }, now);
    return user;
  });
  if (!outcome) throw new IamError('LINK_INVALID');
  services.users.invalidate(outcome.id);
  await services.sessions.revokeAllOfUser(outcome.id, 'password_reset', client);
  return { status: 'password_reset' };
}

/** The account a live reset link belongs to, read without consuming it (for the policy's context words). */
async function linkHolder(services: Services, token: string) {
  const link = await findLiveLink(services.db, { token, purpose: resetPurpose }, services.clock.now());
  return link ? findUserById(services.db, link.userId) : null;
}

/** Retires every outstanding reset link of a user (a newer link, or the password changed). */
export function retireResetLinks(tx: Transaction, userId: string, now: Date): Promise<void> {
  return retireLinks(tx, { userId, purpose: resetPurpose }, now);
}
