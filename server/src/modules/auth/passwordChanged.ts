import type { Executor } from '../../db/client';
import type { UserRow } from '../../db/tables';
import { type ClientInfo, parseUserAgent } from '../devices/clientInfo';
import { queueMail } from './queueMail';
import type { Services } from './services';

/** Tells the owner their password changed, through the outbox in the caller's transaction. */
export async function queuePasswordChangedNotice(services: Services, executor: Executor, user: UserRow, client: ClientInfo): Promise<void> {
  const agent = parseUserAgent(client.userAgent);
  const device = [agent.browser, agent.os].filter(Boolean).join(' on ') || undefined;
  await queueMail(services, executor, {
    userId: user.id,
    to: user.email,
    email: {
      template: 'password_changed',
      props: { productName: services.settings.productName, time: services.clock.now(), ...(device ? { device } : {}) },
    },
  });
}
