import { eq } from 'drizzle-orm';
import { runTransaction, type Transaction } from '../../db/client';
import { type ChallengeRow, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { newId } from '../crypto/ids';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { assertSsoNotRequired } from '../sso/policy';
import { findUserByEmail, findUserById } from '../users/users';
import type { LoginChallenge } from './loginChallenge';
import { claimMailBudget } from './mailBudget';
import { queueMail } from './queueMail';
import { describeWhereAndWhat } from './securityAlert';
import { emailLink, type Services } from './services';
import { type SignedIn, signInOrChallenge } from './signIn';

const purpose = 'sign_in';

/**
 * Passwordless sign-in, step 1 (docs/api.md, passwordless email sign-in): a code and a link to
 * the address. The answer is the same, in the same work, whether the address has an account or
 * not: a challenge id either way (for an unknown address a decoy that no code opens, and no
 * mail). The mail goes through the outbox, off the response path, within the address's quiet
 * cap (OWASP ASVS 4.0 V2.2.x, enumeration; V2.2.1, anti-automation that locks nobody out).
 */
export async function requestSignIn(
  services: Services,
  input: { email: string },
  client: ClientInfo,
): Promise<{ status: 'sent'; challengeId: string }> {
  const { db, clock, settings } = services;
  const found = await findUserByEmail(db, input.email);
  // A disabled account is answered like an unknown address: the same shape, and no mail.
  const user = found?.disabledAt ? null : found;
  const allowance = await claimMailBudget(services, 'signIn', input.email, client, user?.id ?? null);
  const now = clock.now();
  const challengeId = await runTransaction(db, async (tx) => {
    if (!user) {
      // The decoy's owner is an id no account has: the challenge opens nothing.
      const decoy = await services.challenges.issue(tx, { userId: newId('user'), purpose, data: { decoy: true }, withLink: false });
      return decoy.challengeId;
    }
    const challenge = await services.challenges.issue(tx, { userId: user.id, purpose, data: { methods: ['email_otp'] } });
    // Past the cap, the same answer and no mail (counted below, once the transaction holds).
    if (!allowance) return challenge.challengeId;
    await queueMail(services, tx, {
      userId: user.id,
      to: user.email,
      email: {
        template: 'login_code',
        props: {
          productName: settings.productName,
          code: challenge.code,
          link: emailLink(settings, 'sign-in-link', challenge.linkToken),
          expiresInMinutes: Math.round(settings.lifetimes.codeTtlInSeconds / 60),
          ...describeWhereAndWhat(client),
          time: now,
        },
      },
    });
    return challenge.challengeId;
  });
  if (user && !allowance) services.metrics.mailsCapped.inc({ kind: 'signIn' });
  return { status: 'sent', challengeId };
}

/**
 * Passwordless sign-in, step 2: the code or the link proves the mailbox; the sign-in then
 * passes the gate every method does. The emailed code is itself what a risk challenge would
 * ask for, so findings of the sign-in checks are recorded and answered by it (the device is
 * trusted from now on); an enrolled authenticator is still asked for (NIST SP 800-63B §4.2.1).
 * A first passwordless sign-in of an unverified account verifies its address and drops the
 * password nobody proved.
 */
export async function signInWithEmail(
  services: Services,
  input: { challengeId: string; code: string } | { token: string },
  client: ClientInfo,
): Promise<SignedIn | LoginChallenge> {
  const onSuccess = async (tx: Transaction, challenge: ChallengeRow) => {
    if (challenge.data?.decoy === true) throw new IamError('CODE_INVALID');
    const user = await findUserById(tx, challenge.userId);
    if (!user) throw new IamError('CHALLENGE_INVALID');
    if (user.emailVerifiedAt !== null) return user;
    const now = services.clock.now();
    // The password of an unverified account was set by whoever signed the address up, perhaps
    // not its owner: the owner proving the mailbox now drops it (no pre-hijacking).
    await tx.update(users).set({ emailVerifiedAt: now, passwordHash: null, updatedAt: now }).where(eq(users.id, user.id));
    await recordAudit(tx, { type: 'user.email_verified', at: now, userId: user.id, client, data: { method: 'sign_in' } });
    return { ...user, emailVerifiedAt: now, passwordHash: null, updatedAt: now };
  };
  const user =
    'token' in input
      ? await services.challenges.consumeLink({ token: input.token, purpose }, onSuccess)
      : await services.challenges.consumeCode({ challengeId: input.challengeId, code: input.code, purpose }, onSuccess);
  services.users.invalidate(user.id);
  const method = 'token' in input ? 'email_link' : 'email_code';
  await assertSsoNotRequired(services.db, user, { method, client, now: services.clock.now() });
  return signInOrChallenge(services, user, client, { method, mailboxProven: true });
}
