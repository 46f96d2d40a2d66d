import { and, eq, sql } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { devices } from '../../db/tables';
import { newId } from '../crypto/ids';
import { canaryHash } from './canary';
import type { ClientInfo } from './clientInfo';
import { type ClientDescription, locationOf, placeOf } from './describe';

/**
 * The user's device for this canary, created on first sign-in from it. Clients without a
 * canary (API callers that keep no cookies) get a device of their own per sign-in.
 */
export async function upsertDevice(
  tx: Transaction,
  input: { userId: string; client: ClientInfo; description: ClientDescription; now: Date; fallbackCanary: string; trusted: boolean },
): Promise<{ deviceId: string; known: boolean; otherDevices: number }> {
  const hash = canaryHash(input.client.canary ?? input.fallbackCanary);
  const [before] = await tx
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.userId, input.userId), eq(devices.canaryHash, hash)))
    .limit(1);
  const [others] = await tx.select({ n: sql<number>`count(*)` }).from(devices).where(eq(devices.userId, input.userId));
  const id = newId('device');
  // Signing in proves the device: its fingerprint becomes the one later refreshes are compared with.
  const fingerprint = provenFingerprint(input.description, input.now);
  await tx
    .insert(devices)
    .values({
      id,
      userId: input.userId,
      canaryHash: hash,
      userAgent: input.client.userAgent?.slice(0, 512) ?? null,
      lastIp: input.client.ip,
      firstSeenAt: input.now,
      lastSeenAt: input.now,
      trustedAt: input.trusted ? input.now : null,
      ...fingerprint,
    })
    .onDuplicateKeyUpdate({
      set: {
        userAgent: input.client.userAgent?.slice(0, 512) ?? null,
        lastIp: input.client.ip,
        lastSeenAt: input.now,
        ...(input.trusted ? { trustedAt: input.now } : {}),
        ...fingerprint,
      },
    });
  if (before) return { deviceId: before.id, known: true, otherDevices: Number(others?.n ?? 1) - 1 };
  return { deviceId: id, known: false, otherDevices: Number(others?.n ?? 0) };
}

/** A passing refresh: the device was seen here now (its proven fingerprint stays as it was). */
export async function touchDevice(
  tx: Transaction,
  deviceId: string,
  client: ClientInfo,
  description: ClientDescription,
  now: Date,
): Promise<void> {
  await tx
    .update(devices)
    .set({ lastSeenAt: now, lastIp: client.ip, ...locationOf(description, now) })
    .where(eq(devices.id, deviceId));
}

/** Passing a challenge proves the device anew: it becomes trusted and its fingerprint is updated. */
export async function proveDevice(
  tx: Transaction,
  deviceId: string,
  client: ClientInfo,
  description: ClientDescription,
  now: Date,
): Promise<void> {
  await tx
    .update(devices)
    .set({
      ...provenFingerprint(description, now),
      lastIp: client.ip,
      lastSeenAt: now,
      trustedAt: now,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    })
    .where(eq(devices.id, deviceId));
}

function provenFingerprint(description: ClientDescription, now: Date) {
  return {
    browser: description.browser,
    os: description.os,
    deviceType: description.deviceType,
    ...placeOf(description),
    network: description.network,
    asn: description.owner?.asn ?? null,
    lastLatitude: null,
    lastLongitude: null,
    lastLocatedAt: null,
    ...locationOf(description, now),
  };
}
