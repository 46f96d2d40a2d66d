import { stepUpActionSchema } from '@iam/shared';
import { type Executor, runTransaction, type Transaction } from '../../db/client';
import type { ChallengeRow } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ChallengeMethod } from '../challenges/challenges';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { secondFactorMethods } from '../mfa/mfa';
import { issueStepUpToken, type StepUpBinding, spendStepUpToken } from '../mfa/stepUpTokens';
import { findUserById } from '../users/users';
import { sendLoginCode, withPasskey } from './loginChallenge';
import { type PasskeyAnswer, provePasskeyForChallenge } from './passkeyProof';
import type { Services } from './services';

/**
 * Step-up: a fresh proof of a second factor before a sensitive action (NIST SP 800-63B
 * §4.2.3 reauthentication; OWASP ASVS 4.0 V2.7/V3.7: sensitive operations ask again). The
 * proof is a token bound to the session that earned it and to one action, spent once.
 */
export const builtInStepUpActions = [
  'email_change',
  'totp_disable',
  'password_set',
  'passkey_add',
  'passkey_remove',
  'account_delete',
  'admin',
  // org.transferOwnership (the organization passes to another member) and org.revokeSessions.
  'org_ownership',
  'org_sessions',
  // sso.connections.create, update and delete: who an organization's members sign in through.
  'org_sso',
] as const;

export type BuiltInStepUpAction = (typeof builtInStepUpActions)[number];

/** The docs/api.md `Challenge` shape. */
export interface StepUpChallenge {
  status: 'mfa_required';
  challengeId: string;
  methods: ChallengeMethod[];
  reasons: string[];
}

/** The actions the service knows: the built-in ones and those a host app declares (`stepUpActions`). */
export function resolveStepUpActions(configured: readonly string[] = []): string[] {
  for (const action of configured) {
    if (!stepUpActionSchema.safeParse(action).success) {
      throw new Error(`stepUpActions: "${action}" is not an action name (a lower-case letter, then a-z, 0-9, _ . : -; at most 64).`);
    }
  }
  return [...new Set<string>([...builtInStepUpActions, ...configured])];
}

const actionTexts: Record<string, string> = {
  email_change: 'You asked to change the email address of your account.',
  totp_disable: 'You asked to turn off your authenticator app.',
  password_set: 'You asked to add a password to your account.',
  passkey_add: 'You asked to add a passkey to your account.',
  passkey_remove: 'You asked to remove a passkey from your account.',
  account_delete: 'You asked to delete your account.',
  admin: 'You asked to make an administrative change.',
  org_ownership: 'You asked to transfer the ownership of an organization.',
  org_sessions: "You asked to end the sessions of an organization's members.",
  org_sso: "You asked to change an organization's single sign-on.",
};

/**
 * Opens a step-up challenge for an action in the caller's session: the authenticator app
 * or a backup code when TOTP is enrolled (nothing is mailed), else a code emailed to the
 * account's address (`login_code`, without a link: the code must be typed in the session
 * that asked for it).
 */
export async function beginStepUp(
  services: Services,
  input: { userId: string; sessionId: string; action: string },
  client: ClientInfo,
): Promise<StepUpChallenge> {
  if (!services.settings.stepUpActions.includes(input.action)) {
    throw new IamError('INVALID_INPUT', { message: 'This action does not take a step-up.' });
  }
  const user = await findUserById(services.db, input.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  const enrolled = user.totpEnabledAt !== null;
  const methods: ChallengeMethod[] = withPasskey(enrolled ? [...secondFactorMethods] : ['email_otp'], user);
  const reasons = ['step_up'];
  const challenge = await runTransaction(services.db, (tx) =>
    services.challenges.issue(tx, {
      userId: user.id,
      purpose: 'step_up',
      data: { methods, reasons, action: input.action, sessionId: input.sessionId },
      withLink: false,
    }),
  );
  await recordAudit(services.db, {
    type: 'mfa.step_up_started',
    at: services.clock.now(),
    userId: user.id,
    sessionId: input.sessionId,
    client,
    data: { action: input.action, challenge: challenge.challengeId, methods },
  });
  if (!enrolled) {
    const why = actionTexts[input.action] ?? 'You asked to confirm a sensitive action.';
    await sendLoginCode(services, user.email, challenge, client, [why]);
  }
  return { status: 'mfa_required', challengeId: challenge.challengeId, methods, reasons };
}

/**
 * Completes a step-up challenge with its code (emailed, TOTP or backup) or a passkey of the
 * account, and returns a token
 * for the action it was opened for. Only the session that opened it may complete it; for
 * any other, the challenge does not exist (no code is judged, no attempt counted).
 */
export async function verifyStepUp(
  services: Services,
  input: { userId: string; sessionId: string; challengeId: string } & ({ code: string } | { passkey: PasskeyAnswer }),
  client: ClientInfo,
): Promise<{ stepUpToken: string; expiresAt: Date }> {
  const binding = {
    challengeId: input.challengeId,
    purpose: 'step_up',
    accept: (challenge: ChallengeRow) => challenge.userId === input.userId && challenge.data?.sessionId === input.sessionId,
  } as const;
  const onSuccess = async (tx: Transaction, challenge: ChallengeRow, method: ChallengeMethod) => {
    const action = challenge.data?.action;
    if (typeof action !== 'string') throw new IamError('CHALLENGE_INVALID');
    const now = services.clock.now();
    const issued = await issueStepUpToken(tx, { userId: input.userId, sessionId: input.sessionId, action }, now);
    await recordAudit(tx, {
      type: 'mfa.step_up_verified',
      at: now,
      userId: input.userId,
      sessionId: input.sessionId,
      client,
      data: { action, method, challenge: challenge.id },
    });
    return issued;
  };
  if ('code' in input) return services.challenges.consumeCode({ ...binding, code: input.code }, onSuccess);
  // A passkey of this account, in a ceremony opened for this challenge.
  const proven = await provePasskeyForChallenge(services, { challengeId: input.challengeId, passkey: input.passkey }, client);
  if (proven.userId !== input.userId) throw new IamError('CHALLENGE_INVALID');
  return services.challenges.consumeWithPasskey({ ...binding, userId: proven.userId }, onSuccess);
}

/**
 * The guard of a sensitive action: spends a step-up token issued to this session for this
 * action, or throws `STEP_UP_REQUIRED` (missing, unknown, expired, already spent, or issued
 * for another action or session). Pass the transaction that makes the change, so the token
 * is spent only if the change commits. Host apps guard their own actions (declared in
 * `stepUpActions`) with it: `await requireStepUp(iam.services, { sessionId: claims.sid, action: 'delete_project', stepUpToken })`.
 */
export async function requireStepUp(services: Pick<Services, 'db' | 'clock'>, binding: StepUpBinding, executor?: Executor): Promise<void> {
  if (!(await spendStepUpToken(executor ?? services.db, binding, services.clock.now()))) throw new IamError('STEP_UP_REQUIRED');
}
