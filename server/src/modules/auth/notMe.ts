import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { links } from '../../db/tables';
import { hashLinkToken } from '../challenges/challenges';
import { addSeconds } from '../clock';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
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
  const now = services.clock.now();
  const token = randomToken(32);
  await executor.insert(links).values({
    id: newId('link'),
    tokenHash: hashLinkToken(token),
    purpose: notMePurpose,
    userId: input.userId,
    createdAt: now,
    expiresAt: addSeconds(now, notMeLinkTtlInSeconds),
    data: { sessionId: input.sessionId },
  });
  return emailLink(services.settings, 'not-me', token);
}

/** Ends the session a "this was not me" link names. Single use. */
export async function reportNotMe(services: Services, token: string, client: ClientInfo): Promise<{ status: 'revoked' }> {
  const now = services.clock.now();
  const sessionId = await services.db.transaction(async (tx) => {
    const [link] = await tx
      .select()
      .from(links)
      .where(eq(links.tokenHash, hashLinkToken(token)))
      .for('update');
    if (!link || link.purpose !== notMePurpose || link.usedAt !== null || link.expiresAt <= now) return null;
    await tx.update(links).set({ usedAt: now }).where(eq(links.id, link.id));
    return typeof link.data?.sessionId === 'string' ? link.data.sessionId : null;
  });
  if (!sessionId) throw new IamError('LINK_INVALID');
  await services.sessions.revoke([sessionId], 'not_me', client);
  return { status: 'revoked' };
}
