// Accounts and rows written straight into the databases with SQL (MariaDB's SEQUENCE engine:
// `seq_1_to_N` is a table of the numbers 1…N), so a run can hold thousands of accounts and
// millions of sessions without signing each up through an API. Every seeded row is a copy of
// a template row the service (or better-auth) wrote itself, with only its keys and times
// replaced: columns the code adds later are copied too, and the password hash is the one the
// service computed at its own parameters.
import { createHash } from 'node:crypto';
import type mysql from 'mysql2/promise';

/** RFC 4648 base32, lowercase: the alphabet of the service's ids (server/src/modules/crypto/ids.ts). */
const base32Alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * SQL for a public id as `newId` makes them (`usr_` and 26 base32 characters), derived from
 * `bytes`: an SQL expression of at least 26 binary bytes (one character per byte's low 5 bits),
 * evaluated once per row when it is a column of a materialised derived table.
 */
export function sqlId(prefix: string, bytes: string): string {
  const chars = Array.from({ length: 26 }, (_, i) => `SUBSTR('${base32Alphabet}', 1 + (ASCII(SUBSTR(${bytes}, ${i + 1}, 1)) & 31), 1)`);
  return `CONCAT('${prefix}_', ${chars.join(', ')})`;
}

/** 32 binary bytes from a seed expression, the raw material of `sqlId`. */
export function sqlIdBytes(seed: string): string {
  return `UNHEX(SHA2(${seed}, 256))`;
}

/** The device canary (`iam_cid`) the bench's browser `key` holds: 256 bits, base64url, as the service issues them. */
export function seededCanary(salt: string, key: string): string {
  return createHash('sha256').update(`${salt}${key}`, 'utf8').digest('base64url');
}

/** The same canary computed in SQL from a seed expression that yields `${salt}${key}`. */
export function sqlCanary(seed: string): string {
  return `REPLACE(REPLACE(REPLACE(TO_BASE64(UNHEX(SHA2(${seed}, 256))), '+', '-'), '/', '_'), '=', '')`;
}

/** How the service stores a canary: SHA-256 of `canary:` and the cookie (server/src/modules/devices/canary.ts). */
export function sqlCanaryHash(canary: string): string {
  return `SHA2(CONCAT('canary:', ${canary}), 256)`;
}

const knownColumns = new Map<string, string[]>();

/** A table's columns in order, from the schema the migrations made (read once per table). */
export async function columnsOf(connection: mysql.Connection, database: string, table: string): Promise<string[]> {
  const known = knownColumns.get(`${database}.${table}`);
  if (known) return known;
  const [rows] = await connection.query<mysql.RowDataPacket[]>(
    'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [database, table],
  );
  if (rows.length === 0) throw new Error(`no table ${database}.${table}`);
  const columns = rows.map((row) => String(row.name));
  knownColumns.set(`${database}.${table}`, columns);
  return columns;
}

/**
 * Copies the template row of `table` once per number `from`…`to`: every column from the
 * template (`tpl.`), except `overrides`, SQL expressions over the number `s.seq`, over the
 * template, and over the derived columns `derived` (each evaluated once per number, in a
 * derived table that is materialised, not merged: its LIMIT keeps MariaDB from inlining it).
 */
export async function cloneRows(
  connection: mysql.Connection,
  opts: {
    database: string;
    table: string;
    templateWhere: string;
    templateParams: unknown[];
    from: number;
    to: number;
    derived?: Record<string, string>;
    overrides: Record<string, string>;
    /** Only numbers for which this SQL condition over `s.*` holds. */
    where?: string;
    chunk?: number;
  },
): Promise<number> {
  const columns = await columnsOf(connection, opts.database, opts.table);
  for (const name of Object.keys(opts.overrides)) if (!columns.includes(name)) throw new Error(`${opts.table} has no column ${name}`);
  const select = columns.map((name) => opts.overrides[name] ?? `tpl.\`${name}\``).join(', ');
  const derived = Object.entries(opts.derived ?? {})
    .map(([name, expression]) => `, ${expression} AS ${name}`)
    .join('');
  // Each chunk's derived table stays in memory: an on-disk temporary table would go to the
  // server's tmpdir, shared with everything else on the machine.
  await connection.query('SET SESSION tmp_table_size = 268435456, max_heap_table_size = 268435456');
  const chunk = opts.chunk ?? 20_000;
  let inserted = 0;
  for (let first = opts.from; first <= opts.to; first += chunk) {
    const last = Math.min(opts.to, first + chunk - 1);
    const [result] = await connection.query<mysql.ResultSetHeader>(
      `INSERT INTO \`${opts.database}\`.\`${opts.table}\` (${columns.map((name) => `\`${name}\``).join(', ')}) ` +
        `SELECT ${select} FROM (SELECT seq${derived} FROM seq_${first}_to_${last} LIMIT 18446744073709551615) AS s ` +
        `JOIN \`${opts.database}\`.\`${opts.table}\` AS tpl ON ${opts.templateWhere}` +
        (opts.where ? ` WHERE ${opts.where}` : ''),
      opts.templateParams,
    );
    inserted += result.affectedRows;
  }
  return inserted;
}

/** A string literal for SQL built here (only the bench's own constants go through it). */
export function sqlString(value: string): string {
  if (!/^[\w.@:+/=-]*$/.test(value)) throw new Error(`not a plain constant: ${value}`);
  return `'${value}'`;
}
