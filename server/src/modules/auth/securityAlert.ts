import type { SecurityAlertReason } from '@iam/emails';
import { describeReasons } from '@iam/shared';
import type { Executor } from '../../db/client';
import type { UserRow } from '../../db/tables';
import { type ClientInfo, parseUserAgent } from '../devices/clientInfo';
import { lookupGeo } from '../devices/geo';
import { issueNotMeLink } from './notMe';
import { queueMail } from './queueMail';
import type { Services } from './services';

/** "Chrome on Linux" and "Lyon, FR", for emails. */
export function describeWhereAndWhat(client: ClientInfo): { device?: string; location?: string } {
  const agent = parseUserAgent(client.userAgent);
  const device = [agent.browser, agent.os].filter(Boolean).join(' on ');
  const geo = lookupGeo(client.ip);
  const location = geo ? [geo.city, geo.country].filter(Boolean).join(', ') : '';
  return { ...(device ? { device } : {}), ...(location ? { location } : {}) };
}

/**
 * Tells the owner about a security event (a reused refresh token, an anomaly, an MFA change)
 * through the outbox, in the caller's transaction: the alert never holds up or fails the
 * request that caused it, and a mail provider outage delays it, never loses it.
 */
export async function queueSecurityAlert(
  services: Services,
  executor: Executor,
  user: UserRow,
  event: {
    reason: SecurityAlertReason;
    client: ClientInfo;
    reasons?: string[];
    sessionId?: string;
  },
): Promise<void> {
  const notMeLink = event.sessionId ? await issueNotMeLink(services, executor, { userId: user.id, sessionId: event.sessionId }) : undefined;
  await queueMail(services, executor, {
    userId: user.id,
    to: user.email,
    email: {
      template: 'security_alert',
      props: {
        productName: services.settings.productName,
        reason: event.reason,
        time: services.clock.now(),
        ...describeWhereAndWhat(event.client),
        ...(event.reasons ? { reasons: describeReasons(event.reasons) } : {}),
        ...(notMeLink ? { notMeLink } : {}),
      },
    },
  });
}

/** A sign-in from a device the account has not used before: the owner hears of it (through the outbox). */
export async function queueNewSignInAlert(
  services: Services,
  executor: Executor,
  user: UserRow,
  client: ClientInfo,
  sessionId: string,
): Promise<void> {
  const notMeLink = await issueNotMeLink(services, executor, { userId: user.id, sessionId });
  await queueMail(services, executor, {
    userId: user.id,
    to: user.email,
    email: {
      template: 'new_sign_in',
      props: {
        productName: services.settings.productName,
        time: services.clock.now(),
        ...describeWhereAndWhat(client),
        ...(client.ip ? { ip: client.ip } : {}),
        notMeLink,
      },
    },
  });
}
