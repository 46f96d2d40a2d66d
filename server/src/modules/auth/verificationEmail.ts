import type { IssuedChallenge } from '../challenges/challenges';
import { emailLink, type Services } from './services';

/** Sends the verification code and link; a failed send surfaces as MAIL_UNAVAILABLE (503). */
export async function sendVerificationEmail(services: Services, to: string, challenge: IssuedChallenge): Promise<void> {
  const { settings } = services;
  await services.mailer.send({
    to,
    email: {
      template: 'verify_email',
      props: {
        productName: settings.productName,
        code: challenge.code,
        link: emailLink(settings, 'verify-email', challenge.linkToken),
        expiresInMinutes: Math.round(settings.lifetimes.codeTtlInSeconds / 60),
      },
    },
  });
}
