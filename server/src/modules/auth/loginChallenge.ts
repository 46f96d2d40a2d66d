import type { UserRow } from '../../db/tables';
import type { IssuedChallenge } from '../challenges/challenges';
import { type ClientInfo, parseUserAgent } from '../devices/clientInfo';
import { emailLink, type Services } from '../services';

/** API.md `Challenge`: tokens are withheld until the emailed code (or link) is presented. */
export interface LoginChallenge {
  status: 'mfa_required';
  challengeId: string;
  methods: Array<'email_otp' | 'totp' | 'backup_code'>;
  reasons: string[];
}

/** Starts an email-code challenge for a sign-in and mails the code with what we know of the device. */
export async function startEmailChallenge(
  services: Services,
  user: UserRow,
  client: ClientInfo,
  reasons: string[],
): Promise<LoginChallenge> {
  const challenge = await services.db.transaction((tx) =>
    services.challenges.issue(tx, { userId: user.id, purpose: 'login', data: { reasons } }),
  );
  await sendLoginCode(services, user.email, challenge, client, reasons);
  return { status: 'mfa_required', challengeId: challenge.challengeId, methods: ['email_otp'], reasons };
}

export async function sendLoginCode(
  services: Services,
  to: string,
  challenge: IssuedChallenge,
  client: ClientInfo,
  reasons: string[],
): Promise<void> {
  const { settings } = services;
  const agent = parseUserAgent(client.userAgent);
  const device = [agent.browser, agent.os].filter(Boolean).join(' on ') || undefined;
  await services.mailer.send({
    to,
    email: {
      template: 'login_code',
      props: {
        productName: settings.productName,
        code: challenge.code,
        link: emailLink(settings, 'confirm-sign-in', challenge.linkToken),
        expiresInMinutes: Math.round(settings.lifetimes.codeTtlInSeconds / 60),
        ...(device ? { device } : {}),
        time: services.clock.now(),
        reasons,
      },
    },
  });
}
