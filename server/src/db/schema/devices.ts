import { double, index, int, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn } from './columns';

/** A browser or app install, named by the canary cookie it holds (only its hash is kept). */
export const devices = mysqlTable(
  'devices',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id').notNull(),
    canaryHash: hashColumn('canary_hash').notNull(),
    userAgent: varchar('user_agent', { length: 512 }),
    browser: varchar('browser', { length: 64 }),
    os: varchar('os', { length: 64 }),
    deviceType: varchar('device_type', { length: 16 }).notNull(),
    lastIp: varchar('last_ip', { length: 45 }),
    // The fingerprint last proven (at sign-in or by passing a challenge); anomaly checks
    // compare each refresh with it.
    country: varchar('country', { length: 2 }),
    // A subdivision's name as the geolocation data gives it (`Rio Grande do Sul`).
    region: varchar('region', { length: 100 }),
    city: varchar('city', { length: 100 }),
    network: varchar('network', { length: 64 }),
    asn: int('asn'),
    // Where the device was last seen, for the speed of travel between two refreshes.
    lastLatitude: double('last_latitude'),
    lastLongitude: double('last_longitude'),
    lastLocatedAt: instantColumn('last_located_at'),
    firstSeenAt: createdAt(),
    lastSeenAt: instantColumn('last_seen_at').notNull(),
    trustedAt: instantColumn('trusted_at'),
  },
  (table) => [
    // Sign-in: find this user's device by the canary the browser presents.
    uniqueIndex('devices_user_canary_uq').on(table.userId, table.canaryHash),
    // Device lists and clean-up per user.
    index('devices_user_idx').on(table.userId, table.lastSeenAt),
    // Retention: devices unseen for a long time.
    index('devices_last_seen_at_idx').on(table.lastSeenAt),
  ],
);

export type DeviceRow = typeof devices.$inferSelect;
