import type { Executor } from '../../db/client';
import { enqueueMail, type OutboxMail } from '../outbox/outbox';
import type { Services } from './services';

/**
 * Queues a mail that is not a code the user is waiting for (an alert, a notice, a reset link)
 * in the caller's transaction, so it exists exactly when the change it reports does, and asks
 * the outbox worker to deliver it soon; a provider outage delays it, never loses it.
 */
export async function queueMail(
  services: Pick<Services, 'clock' | 'outbox'>,
  executor: Executor,
  mail: OutboxMail & { userId: string | null },
): Promise<void> {
  await enqueueMail(executor, mail, services.clock.now());
  // After the caller's commit, most of the time; the worker's poll delivers it otherwise.
  setTimeout(() => services.outbox.nudge(), 50).unref();
}
