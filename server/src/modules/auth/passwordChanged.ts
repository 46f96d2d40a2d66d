import type { UserRow } from '../../db/tables';
import { type ClientInfo, parseUserAgent } from '../devices/clientInfo';
import type { Services } from './services';

/** Tells the owner their password changed; off the response path, failures logged. */
export function notifyPasswordChanged(services: Services, user: UserRow, client: ClientInfo): void {
  const agent = parseUserAgent(client.userAgent);
  const device = [agent.browser, agent.os].filter(Boolean).join(' on ') || undefined;
  void services.mailer
    .send({
      to: user.email,
      email: {
        template: 'password_changed',
        props: { productName: services.settings.productName, time: services.clock.now(), ...(device ? { device } : {}) },
      },
    })
    .catch((error: unknown) => services.logger.error({ err: error, userId: user.id }, 'password-changed notice failed'));
}
