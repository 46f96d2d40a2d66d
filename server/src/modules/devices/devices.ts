import { and, count, eq, type SQL, sql } from 'drizzle-orm';
import type { Transaction } from '../../db/client';
import { devices } from '../../db/tables';
import { newId } from '../crypto/ids';
import { canaryHash } from './canary';
import type { ClientInfo } from './clientInfo';
import { type ClientDescription, locationOf, placeOf } from './describe';

/**
 * The user's device for this canary, created on first sign-in from it, in one
 * `INSERT … ON DUPLICATE KEY UPDATE` on the unique (user, canary) key. Clients without a
 * canary (API callers that keep no cookies) get a device of their own per sign-in. Whether the
 * device was known, and how many others the account holds, come from `prior` when the sign-in
 * read them already (`accountWithHistory`), else from one count here. The id is answered as
 * `deviceIdOf`, a subquery by that key: a concurrent first sign-in of the same browser may have
 * made the row this upsert updated, and its id is the one to use.
 */
export async function upsertDevice(
  tx: Transaction,
  input: {
    userId: string;
    client: ClientInfo;
    description: ClientDescription;
    now: Date;
    fallbackCanary: string;
    trusted: boolean;
    prior?: { devices: number; deviceKnown: boolean };
  },
): Promise<{ deviceId: SQL; known: boolean; otherDevices: number }> {
  const hash = canaryHash(input.client.canary ?? input.fallbackCanary);
  let known: boolean;
  let held: number;
  if (input.prior) {
    known = input.prior.deviceKnown;
    held = input.prior.devices;
  } else {
    const [counted] = await tx
      .select({ n: count(), known: sql<number>`coalesce(max(${eq(devices.canaryHash, hash)}), 0)`.mapWith(Number).as('known') })
      .from(devices)
      .where(eq(devices.userId, input.userId));
    known = (counted?.known ?? 0) > 0;
    held = counted?.n ?? 0;
  }
  // Signing in proves the device: its fingerprint becomes the one later refreshes are compared with.
  const fingerprint = provenFingerprint(input.description, input.now);
  await tx
    .insert(devices)
    .values({
      id: newId('device'),
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
  return { deviceId: deviceIdOf(input.userId, hash), known, otherDevices: known ? Math.max(0, held - 1) : held };
}

/** The id of the user's device for a canary hash, as a subquery (the unique key makes it one row). */
export function deviceIdOf(userId: string, hash: string): SQL {
  return sql`(select ${devices.id} from ${devices} where ${and(eq(devices.userId, userId), eq(devices.canaryHash, hash))})`;
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
