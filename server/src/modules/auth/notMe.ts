import { type Executor, runTransaction } from '../../db/client';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { issueLink, spendLink } from '../links/links';
import { emailLink, type Services } from './services';

const notMePurpose = 'not_me';
/** A "this was not me" link stays usable a week: alerts are often read late. */
const notMeLinkTtlInSeconds = 7 * 24 * 3600;

/** A link (`/not-me?token=…`) that ends one session, for alert emails. */
export async function issueNotMeLink(
  services: Services,
  executor: Executor,
  input: { userId: string; sessionId: string },
): Promise<string> {
  const token = await issueLink(
    executor,
    { purpose: notMePurpose, userId: input.userId, ttlInSeconds: notMeLinkTtlInSeconds, data: { sessionId: input.sessionId } },
    services.clock.now(),
  );
  return emailLink(services.settings, 'not-me', token);
}

/** Ends the session a "this was not me" link names. Single use. */
export async function reportNotMe(services: Services, token: string, client: ClientInfo): Promise<{ status: 'revoked' }> {
  const now = services.clock.now();
  const sessionId = await runTransaction(services.db, async (tx) => {
    const link = await spendLink(tx, { token, purpose: notMePurpose }, now);
    if (!link) return null;
    return typeof link.data?.sessionId === 'string' ? link.data.sessionId : null;
  });
  if (!sessionId) throw new IamError('LINK_INVALID');
  await services.sessions.revoke([sessionId], 'not_me', client);
  return { status: 'revoked' };
}
