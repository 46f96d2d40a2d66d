import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { devices } from '../../db/tables';
import { canaryHash } from './canary';
import type { ClientInfo } from './clientInfo';

/** What the account has proven before, gathered once per sign-in. */
export interface AccountHistory {
  /** The account's device for the presented canary: null when this browser never signed in to it. */
  device: { trusted: boolean } | null;
  /** Countries and networks (ASNs) of the account's devices, as last proven. */
  countries: ReadonlySet<string>;
  asns: ReadonlySet<number>;
  /** Where the account was last seen, by any of its devices. */
  lastLocation: { latitude: number; longitude: number; at: Date } | null;
  /** Devices the account holds; zero before its first sign-in. */
  devices: number;
}

/** Devices read per sign-in: an account with more is judged by its most recently seen ones. */
const maxDevicesRead = 200;

/**
 * What an account has proven before a sign-in: its device for the presented canary, the
 * countries and networks of its devices, and where it was last seen. One indexed read of the
 * user's devices (devices_user_idx), newest first.
 */
export async function accountHistory(executor: Executor, userId: string, client: ClientInfo): Promise<AccountHistory> {
  const rows = await executor
    .select({
      canaryHash: devices.canaryHash,
      trustedAt: devices.trustedAt,
      country: devices.country,
      asn: devices.asn,
      lastLatitude: devices.lastLatitude,
      lastLongitude: devices.lastLongitude,
      lastLocatedAt: devices.lastLocatedAt,
    })
    .from(devices)
    .where(eq(devices.userId, userId))
    .orderBy(desc(devices.lastSeenAt))
    .limit(maxDevicesRead);
  // A canary issued in this very response names no device yet.
  const presented = client.canary && !client.canaryIsNew ? canaryHash(client.canary) : null;
  const own = presented ? rows.find((row) => row.canaryHash === presented) : undefined;
  const located = rows
    .filter((row) => row.lastLatitude !== null && row.lastLongitude !== null && row.lastLocatedAt !== null)
    .sort((a, b) => (b.lastLocatedAt?.getTime() ?? 0) - (a.lastLocatedAt?.getTime() ?? 0))[0];
  return {
    device: own ? { trusted: own.trustedAt !== null } : null,
    countries: new Set(rows.flatMap((row) => (row.country ? [row.country] : []))),
    asns: new Set(rows.flatMap((row) => (row.asn !== null ? [row.asn] : []))),
    lastLocation:
      located?.lastLatitude != null && located.lastLongitude != null && located.lastLocatedAt
        ? { latitude: located.lastLatitude, longitude: located.lastLongitude, at: located.lastLocatedAt }
        : null,
    devices: rows.length,
  };
}

/** Whether the presented canary names a device that signed in to this account before. */
export async function isDeviceOfAccount(executor: Executor, userId: string, client: ClientInfo): Promise<boolean> {
  if (!client.canary || client.canaryIsNew) return false;
  const [row] = await executor
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.userId, userId), eq(devices.canaryHash, canaryHash(client.canary))))
    .limit(1);
  return row !== undefined;
}
