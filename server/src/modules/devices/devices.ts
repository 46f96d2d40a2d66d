import { and, eq, sql } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { devices } from '../../db/tables';
import { sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import type { ClientInfo } from './clientInfo';
import { parseUserAgent } from './clientInfo';

export function canaryHash(canary: string): string {
  return sha256Hex(`canary:${canary}`);
}

/**
 * The user's device for this canary, created on first sign-in from it. Clients without a
 * canary (API callers that keep no cookies) get a device of their own per sign-in.
 */
export async function upsertDevice(
  tx: Transaction,
  input: { userId: string; client: ClientInfo; now: Date; fallbackCanary: string },
): Promise<string> {
  const hash = canaryHash(input.client.canary ?? input.fallbackCanary);
  const agent = parseUserAgent(input.client.userAgent);
  const id = newId('device');
  await tx
    .insert(devices)
    .values({
      id,
      userId: input.userId,
      canaryHash: hash,
      userAgent: input.client.userAgent?.slice(0, 512) ?? null,
      browser: agent.browser,
      os: agent.os,
      deviceType: agent.type,
      lastIp: input.client.ip,
      firstSeenAt: input.now,
      lastSeenAt: input.now,
    })
    .onDuplicateKeyUpdate({
      set: {
        userAgent: input.client.userAgent?.slice(0, 512) ?? null,
        browser: agent.browser,
        os: agent.os,
        deviceType: agent.type,
        lastIp: input.client.ip,
        lastSeenAt: input.now,
      },
    });
  const [row] = await tx
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.userId, input.userId), eq(devices.canaryHash, hash)))
    .limit(1);
  return row?.id ?? id;
}

export async function touchDevice(tx: Transaction, deviceId: string, client: ClientInfo, now: Date): Promise<void> {
  await tx
    .update(devices)
    .set({ lastSeenAt: now, lastIp: client.ip, ...(client.userAgent ? { userAgent: sql`${client.userAgent.slice(0, 512)}` } : {}) })
    .where(eq(devices.id, deviceId));
}
