import { describeReasons } from '@iam/shared';
import { runTransaction } from '../../db/client';
import type { UserRow } from '../../db/tables';
import type { ChallengeMethod, IssuedChallenge } from '../challenges/challenges';
import type { ClientInfo } from '../devices/clientInfo';
import { issueNotMeLink } from './notMe';
import { describeWhereAndWhat } from './securityAlert';
import { emailLink, type Services } from './services';

/** docs/api.md `Challenge`: tokens are withheld until the emailed code (or link) is presented. */
export interface LoginChallenge {
  status: 'mfa_required';
  challengeId: string;
  methods: ChallengeMethod[];
  reasons: string[];
}

/**
 * A passkey answers every challenge of an account that has one: with user verification it is
 * a multi-factor, phishing-resistant authenticator (NIST SP 800-63B §5.1.8), stronger than the
 * emailed code or TOTP. Not offered when the sign-in being judged was itself a passkey's.
 */
export function withPasskey(methods: ChallengeMethod[], user: Pick<UserRow, 'passkeyCount'>, offer = true): ChallengeMethod[] {
  return offer && user.passkeyCount > 0 && !methods.includes('passkey') ? [...methods, 'passkey'] : methods;
}

/**
 * Starts an email-code challenge for a sign-in (purpose `login`) or for a refresh the
 * anomaly checks doubted (purpose `refresh`, bound to its session), and mails the code and
 * link with what we know of the device; a doubted session's mail also carries a "this was
 * not me" link that ends it.
 */
export async function startEmailChallenge(
  services: Services,
  user: UserRow,
  client: ClientInfo,
  reasons: string[],
  target: { purpose: 'login' } | { purpose: 'refresh'; sessionId: string } = { purpose: 'login' },
  offerPasskey = true,
): Promise<LoginChallenge> {
  // The emailed code always works; an enrolled authenticator (or a backup code) and a passkey do too.
  const methods = withPasskey(user.totpEnabledAt ? ['email_otp', 'totp', 'backup_code'] : ['email_otp'], user, offerPasskey);
  const { challenge, notMeLink } = await runTransaction(services.db, async (tx) => ({
    challenge: await services.challenges.issue(tx, {
      userId: user.id,
      purpose: target.purpose,
      data: { reasons, methods, ...(target.purpose === 'refresh' ? { sessionId: target.sessionId } : {}) },
    }),
    notMeLink:
      target.purpose === 'refresh' ? await issueNotMeLink(services, tx, { userId: user.id, sessionId: target.sessionId }) : undefined,
  }));
  await sendLoginCode(services, user.email, challenge, client, reasons, notMeLink);
  return { status: 'mfa_required', challengeId: challenge.challengeId, methods, reasons };
}

export async function sendLoginCode(
  services: Services,
  to: string,
  challenge: IssuedChallenge,
  client: ClientInfo,
  reasons: string[],
  notMeLink?: string,
  linkPage = 'confirm-sign-in',
): Promise<void> {
  const { settings } = services;
  await services.mailer.send({
    to,
    email: {
      template: 'login_code',
      props: {
        productName: settings.productName,
        code: challenge.code,
        // A challenge issued without a link (a step-up, bound to a session) mails the code alone.
        ...(challenge.linkToken ? { link: emailLink(settings, linkPage, challenge.linkToken) } : {}),
        expiresInMinutes: Math.round(settings.lifetimes.codeTtlInSeconds / 60),
        ...describeWhereAndWhat(client),
        time: services.clock.now(),
        reasons: describeReasons(reasons),
        ...(notMeLink ? { notMeLink } : {}),
      },
    },
  });
}
