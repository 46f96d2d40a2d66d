import { and, count, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/mysql-core';
import type { Executor } from '../../db/client';
import {
  devices,
  organizationDomains,
  organizationMembers,
  organizations,
  refreshTokens,
  sessions,
  type UserRow,
  users,
} from '../../db/tables';
import { addSeconds } from '../clock';
import { normalizeEmail } from '../users/email';
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

/** The device columns the sign-in checks read. */
const historyColumns = {
  canaryHash: devices.canaryHash,
  trustedAt: devices.trustedAt,
  country: devices.country,
  asn: devices.asn,
  lastLatitude: devices.lastLatitude,
  lastLongitude: devices.lastLongitude,
  lastLocatedAt: devices.lastLocatedAt,
};

type HistoryRow = {
  canaryHash: string;
  trustedAt: Date | null;
  country: string | null;
  asn: number | null;
  lastLatitude: number | null;
  lastLongitude: number | null;
  lastLocatedAt: Date | null;
};

/**
 * What an account has proven before a sign-in: its device for the presented canary, the
 * countries and networks of its devices, and where it was last seen. One indexed read of the
 * user's devices (devices_user_idx), newest first.
 */
export async function accountHistory(executor: Executor, userId: string, client: ClientInfo): Promise<AccountHistory> {
  const rows = await executor
    .select(historyColumns)
    .from(devices)
    .where(eq(devices.userId, userId))
    .orderBy(desc(devices.lastSeenAt))
    .limit(maxDevicesRead);
  return historyOf(rows, client);
}

/**
 * What opening a session needs to know of the account beforehand, read with its history so
 * the transaction that opens it reads nothing it can be told (`sessions.create`).
 */
export interface SignInPrior {
  /** Devices the account holds (as read for the history), and whether this client's is one of them. */
  devices: number;
  deviceKnown: boolean;
  /** Live sessions the account holds: the cap is checked only when one more would pass it. */
  liveSessions: number;
  /** The live session of this account that this browser's refresh cookie names on this device, to replace. */
  replaceable: string | null;
}

export interface AccountWithHistory {
  user: UserRow;
  history: AccountHistory;
  prior: SignInPrior;
  /**
   * The organization that requires its single sign-on of this account (it verified the
   * address's domain, requires SSO, and the account is a member), or null: the password
   * sign-in's required-SSO check, read here instead of in a statement of its own.
   */
  ssoRequiredBy: string | null;
}

/**
 * A password sign-in's one read before the hash: the account by its normalised address, its
 * sign-in history (the devices, newest first, as `accountHistory` reads them), its live
 * sessions, and the session this browser's refresh cookie holds. The account and its devices
 * come in one join (one row per device, the account's columns on each); the live-session count
 * and the session to replace are uncorrelated subqueries by the same unique address, so the
 * server evaluates each once. A plain read: the transaction that opens the session re-reads
 * the account under a lock, and what it writes from the rest is guarded there
 * (`sessions.create`). Null for an unknown address.
 */
export async function accountWithHistory(
  executor: Executor,
  email: string,
  client: ClientInfo,
  window: {
    now: Date;
    idleInSeconds: number /** The address's domain as verified domains are kept (`domainOfEmail`). */;
    domain: string | null;
  },
): Promise<AccountWithHistory | null> {
  const presented = client.canary && !client.canaryIsNew ? canaryHash(client.canary) : null;
  const cookie = client.refreshTokenHash && presented ? { tokenHash: client.refreshTokenHash, canaryHash: presented } : null;
  const rows = await accountReadOf(executor, cookie !== null).execute({
    email: normalizeEmail(email),
    now: window.now,
    idleSince: addSeconds(window.now, -window.idleInSeconds),
    domain: window.domain,
    ...(cookie ?? { tokenHash: null, canaryHash: null }),
  });
  const first = rows[0];
  if (!first) return null;
  const history = historyOf(
    rows.flatMap((row) => (row.device ? [row.device] : [])),
    client,
  );
  return {
    user: first.user,
    history,
    prior: {
      devices: history.devices,
      deviceKnown: history.device !== null,
      liveSessions: Number(first.liveSessions),
      replaceable: first.replaceable ?? null,
    },
    ssoRequiredBy: first.ssoRequiredBy ?? null,
  };
}

// Built once per database handle and kind (with or without a refresh cookie to look up):
// drizzle would otherwise build this statement's SQL anew on every sign-in.
const accountReads = new WeakMap<Executor, Map<boolean, ReturnType<typeof prepareAccountRead>>>();

function accountReadOf(executor: Executor, withCookie: boolean) {
  let kinds = accountReads.get(executor);
  if (!kinds) {
    kinds = new Map();
    accountReads.set(executor, kinds);
  }
  let read = kinds.get(withCookie);
  if (!read) {
    read = prepareAccountRead(executor, withCookie);
    kinds.set(withCookie, read);
  }
  return read;
}

function prepareAccountRead(executor: Executor, withCookie: boolean) {
  const email = sql.placeholder('email');
  // Subqueries name their tables apart from the outer query's.
  const owner = alias(users, 'owner');
  const deviceOfSession = alias(devices, 'session_device');
  const live = and(
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, sql.placeholder('now')),
    gt(sessions.lastUsedAt, sql.placeholder('idleSince')),
  );
  const liveSessions = executor
    .select({ n: count() })
    .from(sessions)
    .innerJoin(owner, eq(owner.id, sessions.userId))
    .where(and(eq(owner.emailNormalized, email), live));
  const replaceable = withCookie
    ? sql<string | null>`(${executor
        .select({ id: sessions.id })
        .from(refreshTokens)
        .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
        .innerJoin(owner, eq(owner.id, sessions.userId))
        .innerJoin(deviceOfSession, eq(deviceOfSession.id, sessions.deviceId))
        .where(
          and(
            eq(refreshTokens.tokenHash, sql.placeholder('tokenHash')),
            eq(deviceOfSession.canaryHash, sql.placeholder('canaryHash')),
            eq(owner.emailNormalized, email),
            live,
          ),
        )
        .limit(1)})`.as('replaceable')
    : sql<string | null>`NULL`.as('replaceable');
  // Required SSO (modules/sso/policy.ts): the organization holding the verified domain, when it
  // requires SSO and the account is its member (the domain's unique index, then two primary keys).
  const ssoRequiredBy = executor
    .select({ id: organizationDomains.organizationId })
    .from(organizationDomains)
    .innerJoin(organizations, and(eq(organizations.id, organizationDomains.organizationId), eq(organizations.requireSso, true)))
    .innerJoin(
      organizationMembers,
      and(eq(organizationMembers.organizationId, organizationDomains.organizationId), eq(organizationMembers.userId, users.id)),
    )
    .where(eq(organizationDomains.verifiedDomain, sql.placeholder('domain')))
    .limit(1);
  return executor
    .select({
      user: users,
      liveSessions: sql<number>`(${liveSessions})`.as('live_sessions'),
      replaceable,
      ssoRequiredBy: sql<string | null>`(${ssoRequiredBy})`.as('sso_required_by'),
      device: historyColumns,
    })
    .from(users)
    .leftJoin(devices, eq(devices.userId, users.id))
    .where(eq(users.emailNormalized, email))
    .orderBy(desc(devices.lastSeenAt))
    .limit(maxDevicesRead)
    .prepare();
}

function historyOf(rows: HistoryRow[], client: ClientInfo): AccountHistory {
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
