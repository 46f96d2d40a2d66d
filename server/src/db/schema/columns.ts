import { char, customType, datetime, varchar } from 'drizzle-orm/mysql-core';

/**
 * Shared column helpers. Every table is converted to `utf8mb4` / `utf8mb4_bin` by the
 * charset migration, so identifiers and hashes compare byte for byte.
 */

/** Prefixed public ids such as `usr_…` (see `newId`). */
export const idColumn = (name: string) => varchar(name, { length: 40 });

/** Lowercase hex SHA-256 or HMAC-SHA256. */
export const hashColumn = (name: string) => char(name, { length: 64 });

/** UTC instants with millisecond precision; mysql2 is configured with `timezone: 'Z'`. */
export const instantColumn = (name: string) => datetime(name, { mode: 'date', fsp: 3 });

export const createdAt = () => instantColumn('created_at').notNull();

/**
 * JSON that reads back as a value on both engines: MariaDB stores `json` as LONGTEXT, so
 * mysql2 hands back a string there and a parsed value on MySQL 8.
 */
export const jsonColumn = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => 'json',
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T)),
  })(name);
