import type { UserRow } from '../../db/tables';
import { describeReasons } from '../anomaly/reasons';
import { type ClientInfo, parseUserAgent } from '../devices/clientInfo';
import { lookupGeo } from '../devices/geo';
import { issueNotMeLink } from './notMe';
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
 * Tells the owner about a security event (a reused refresh token, an anomaly), off the
 * response path: the alert must never hold up or fail the request that caused it.
 */
export function sendSecurityAlert(
  services: Services,
  user: UserRow,
  event: {
    reason: 'token_reuse' | 'session_revoked' | 'anomaly' | 'mfa_changed';
    client: ClientInfo;
    reasons?: string[];
    sessionId?: string;
  },
): void {
  void (async () => {
    const notMeLink = event.sessionId
      ? await issueNotMeLink(services, services.db, { userId: user.id, sessionId: event.sessionId })
      : undefined;
    await services.mailer.send({
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
  })().catch((error: unknown) => services.logger.error({ err: error, userId: user.id }, 'security alert failed'));
}

/** A sign-in from a device the account has not used before: the owner hears of it. */
export function sendNewSignInAlert(services: Services, user: UserRow, client: ClientInfo, sessionId: string): void {
  void (async () => {
    const notMeLink = await issueNotMeLink(services, services.db, { userId: user.id, sessionId });
    await services.mailer.send({
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
  })().catch((error: unknown) => services.logger.error({ err: error, userId: user.id }, 'new sign-in alert failed'));
}
