import { isDuplicateKeyError, runTransaction } from '../../db/client';
import type { ClientInfo } from '../devices/clientInfo';
import { hashPassword } from '../users/password';
import { createUser, findUserByEmail } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { sendWithinBudget } from './mailBudget';
import { pageUrl, type Services } from './services';
import { sendVerificationEmail } from './verificationEmail';
import { pendingCredentials } from './verifyEmail';

export interface SignupResult {
  status: 'verification_required';
  challengeId: string;
}

/**
 * Registers an address, or answers as if it did. The response has the same shape and
 * costs the same work whether the address is new, unverified or taken (OWASP ASVS 4.0
 * V2.2.x, enumeration): the password is always hashed and one mail is sent, within the
 * address's quiet cap (`sendWithinBudget`: past it the answer is the same and no mail goes out).
 * - new: an unverified account and a verification code;
 * - unverified: a fresh code; the password of *this* sign-up is applied only when its
 *   code is used, so whoever controls the mailbox decides it (no pre-hijacking);
 * - verified: the owner gets a notice, and the caller a decoy challenge no code opens.
 */
export async function signup(
  services: Services,
  input: { email: string; password: string; name?: string | undefined },
  client: ClientInfo,
): Promise<SignupResult> {
  const { db, clock, challenges, settings } = services;
  // Checked before anything depends on whether the address is taken, so refusals reveal nothing.
  await services.emailPolicy.check(input.email);
  await services.passwordPolicy.check(input.password, { email: input.email, name: input.name });
  const passwordHash = await hashPassword(input.password);
  // What this sign-up sets once its code is used: the password, the name, and the address as
  // this person typed it (the first sign-up of an address, perhaps someone else's, set its case).
  // They apply only in this browser (verifyEmail: pre-hijacking).
  const pending = pendingCredentials(client, { passwordHash, name: input.name ?? null, email: input.email });

  let existing = await findUserByEmail(db, input.email);
  if (!existing) {
    try {
      const { user, challenge } = await runTransaction(db, async (tx) => {
        const user = await createUser(
          tx,
          { email: input.email, name: input.name ?? null, passwordHash, emailVerifiedAt: null },
          { now: clock.now(), client },
        );
        await emitSecurityEvent(
          services,
          tx,
          { type: 'user.created', userId: user.id, data: { email: user.email, emailVerified: false, method: 'password' } },
          user.createdAt,
        );
        return { user, challenge: await challenges.issue(tx, { userId: user.id, purpose: 'verify_email', data: pending }) };
      });
      await sendWithinBudget(services, { kind: 'signup', email: user.email, client, userId: user.id }, () =>
        sendVerificationEmail(services, user.email, challenge),
      );
      return { status: 'verification_required', challengeId: challenge.challengeId };
    } catch (error) {
      // Another sign-up for the same address won the race: answer as for an existing one.
      if (!isDuplicateKeyError(error)) throw error;
      existing = await findUserByEmail(db, input.email);
      if (!existing) throw error;
    }
  }

  const owner = existing;
  if (owner.emailVerifiedAt === null) {
    const challenge = await runTransaction(db, (tx) => challenges.issue(tx, { userId: owner.id, purpose: 'verify_email', data: pending }));
    await sendWithinBudget(services, { kind: 'signup', email: owner.email, client, userId: owner.id }, () =>
      sendVerificationEmail(services, owner.email, challenge),
    );
    return { status: 'verification_required', challengeId: challenge.challengeId };
  }

  const decoy = await runTransaction(db, (tx) =>
    challenges.issue(tx, { userId: owner.id, purpose: 'verify_email', data: { decoy: true }, withLink: false }),
  );
  await sendWithinBudget(services, { kind: 'signup', email: owner.email, client, userId: owner.id }, () =>
    services.mailer.send({
      to: owner.email,
      email: {
        template: 'already_registered',
        props: {
          productName: settings.productName,
          signInLink: pageUrl(settings, 'sign-in').toString(),
          resetLink: pageUrl(settings, 'reset-password').toString(),
        },
      },
    }),
  );
  return { status: 'verification_required', challengeId: decoy.challengeId };
}
