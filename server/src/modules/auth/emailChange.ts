import { and, eq, isNull } from 'drizzle-orm';
import { isDuplicateKeyError, runTransaction } from '../../db/client';
import { challenges, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { issueLink, retireLinks, spendLink } from '../links/links';
import { isStepUpTokenLive, type StepUpBinding } from '../mfa/stepUpTokens';
import { organizationManagingAddress } from '../sso/policy';
import { maskEmail, normalizeEmail } from '../users/email';
import { findUserByEmail, findUserById } from '../users/users';
import { emailLink, type Services } from './services';
import { requireStepUp } from './stepUp';

const emailChangePurpose = 'email_change';

/**
 * Starts a change of the account's address (Bearer, step-up `email_change`). The new
 * address passes the sign-up policy; it gets a single-use link (docs/api.md: ≤ 30 min,
 * purpose-bound, only its hash kept), and the current address a notice with the new one
 * masked. A newer request retires the older links.
 *
 * Enumeration (OWASP ASVS 4.0 V2.2.x / V3.x): when the new address already belongs to an
 * account, the caller gets the same `sent`, the step-up is spent and the notice goes to the
 * current address all the same, but no link is made and nothing is mailed to the taken
 * address: its owner is not concerned (nothing can change their account), and a mail there
 * would let anyone with an account send them mail at will.
 */
export async function requestEmailChange(
  services: Services,
  input: { userId: string; sessionId: string; newEmail: string; stepUpToken: string | undefined },
  client: ClientInfo,
): Promise<{ status: 'sent' }> {
  const { db, clock, settings } = services;
  const binding: StepUpBinding = { sessionId: input.sessionId, action: emailChangePurpose, stepUpToken: input.stepUpToken };
  // Checked first without spending it, so a refused address can be corrected with the same token.
  if (!(await isStepUpTokenLive(db, binding, clock.now()))) throw new IamError('STEP_UP_REQUIRED');
  const user = await findUserById(db, input.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  const managedBy = await organizationManagingAddress(db, user);
  if (managedBy) throw new IamError('EMAIL_MANAGED_BY_ORGANIZATION', { organizationId: managedBy });
  const newEmail = input.newEmail.trim();
  if (normalizeEmail(newEmail) === user.emailNormalized) {
    throw new IamError('INVALID_INPUT', { message: 'This is already the address of the account.' });
  }
  await services.emailPolicy.check(newEmail);
  const taken = (await findUserByEmail(db, newEmail)) !== null;

  const now = clock.now();
  const token = await runTransaction(db, async (tx) => {
    await requireStepUp(services, binding, tx);
    await retireLinks(tx, { userId: user.id, purpose: emailChangePurpose }, now);
    const issued = taken
      ? null
      : await issueLink(
          tx,
          {
            purpose: emailChangePurpose,
            userId: user.id,
            ttlInSeconds: settings.lifetimes.linkTtlInSeconds,
            // The account's address when the change was asked: a link outlived by another change is void.
            data: { newEmail, previousEmailNormalized: user.emailNormalized },
          },
          now,
        );
    await recordAudit(tx, {
      type: 'user.email_change_requested',
      at: now,
      userId: user.id,
      sessionId: input.sessionId,
      client,
      data: { newEmail, addressTaken: taken },
    });
    return issued;
  });

  await Promise.all([
    services.mailer.send({
      to: user.email,
      email: { template: 'email_change_old', props: { productName: settings.productName, newEmailMasked: maskEmail(newEmail), time: now } },
    }),
    token === null
      ? null
      : services.mailer.send({
          to: newEmail,
          email: {
            template: 'email_change_new',
            props: {
              productName: settings.productName,
              link: emailLink(settings, 'confirm-email-change', token),
              expiresInMinutes: Math.round(settings.lifetimes.linkTtlInSeconds / 60),
            },
          },
        }),
  ]);
  return { status: 'sent' };
}

/**
 * Completes a change from the link mailed to the new address (whoever follows it controls
 * that mailbox, so the address counts as verified). The address is checked free again under
 * lock, and the unique index settles a race with a sign-up. Every session ends, and every
 * outstanding link and challenge of the account dies with the old address (a reset link
 * mailed there must not outlive the change).
 */
export async function confirmEmailChange(
  services: Services,
  input: { token: string },
  client: ClientInfo,
): Promise<{ status: 'email_changed' }> {
  const { db, clock } = services;
  const now = clock.now();
  let outcome: { kind: 'invalid' } | { kind: 'taken' } | { kind: 'ok'; userId: string };
  try {
    outcome = await runTransaction(db, async (tx) => {
      // Spent whatever follows: a link that cannot apply now never will.
      const link = await spendLink(tx, { token: input.token, purpose: emailChangePurpose }, now);
      if (!link) return { kind: 'invalid' } as const;
      const [user] = await tx.select().from(users).where(eq(users.id, link.userId)).for('update');
      const newEmail = link.data?.newEmail;
      if (!user || typeof newEmail !== 'string' || user.emailNormalized !== link.data?.previousEmailNormalized) {
        return { kind: 'invalid' } as const;
      }
      // Asked for before its organization took the address over: void now.
      if (await organizationManagingAddress(tx, user)) return { kind: 'invalid' } as const;
      const holder = await findUserByEmail(tx, newEmail);
      if (holder && holder.id !== user.id) return { kind: 'taken' } as const;
      await tx
        .update(users)
        .set({ email: newEmail, emailNormalized: normalizeEmail(newEmail), emailVerifiedAt: now, updatedAt: now })
        .where(eq(users.id, user.id));
      await tx
        .update(challenges)
        .set({ consumedAt: now })
        .where(and(eq(challenges.userId, user.id), isNull(challenges.consumedAt)));
      await retireLinks(tx, { userId: user.id }, now);
      await recordAudit(tx, {
        type: 'user.email_changed',
        at: now,
        userId: user.id,
        client,
        data: { previousEmail: user.email, newEmail },
      });
      return { kind: 'ok', userId: user.id } as const;
    });
  } catch (error) {
    // A sign-up took the address between the check and the update: the unique index refused it.
    if (!isDuplicateKeyError(error)) throw error;
    outcome = { kind: 'taken' };
  }
  if (outcome.kind === 'invalid') throw new IamError('LINK_INVALID');
  if (outcome.kind === 'taken') throw new IamError('LINK_INVALID', { message: 'This address is now used by another account.' });
  services.users.invalidate(outcome.userId);
  await services.sessions.revokeAllOfUser(outcome.userId, 'email_change', client);
  return { status: 'email_changed' };
}
