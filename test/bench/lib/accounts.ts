// Many sign-in accounts, seeded in SQL, for the password sign-in targets: each account signs in
// from its own browser (device canary), and the load goes round-robin over all of them, so no
// account passes the session cap (50) and no sign-in has to revoke a session and queue a
// "session limit" alert, which a handful of accounts signed in again and again would.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { cloneRows, seededCanary, sqlCanary, sqlCanaryHash, sqlId, sqlIdBytes, sqlString } from './sqlSeed';

/** One seeded account: its address and the canary its browser presents (`iam_cid`). */
export interface SeededAccount {
  email: string;
  canary: string;
}

/** The template's rows, written by the service when the template account signed up. */
export interface ServiceTemplate {
  userId: string;
  deviceId: string;
}

/** Finds the rows the service wrote for a signed-up, verified account. */
export async function serviceTemplate(databaseUrl: string, email: string): Promise<ServiceTemplate> {
  const connection = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT u.id AS userId, d.id AS deviceId FROM users u JOIN devices d ON d.user_id = u.id ' +
        'WHERE u.email_normalized = ? AND u.email_verified_at IS NOT NULL AND d.trusted_at IS NOT NULL LIMIT 1',
      [email.toLowerCase()],
    );
    const row = rows[0];
    if (!row) throw new Error(`no verified account with a trusted device for ${email}`);
    return { userId: String(row.userId), deviceId: String(row.deviceId) };
  } finally {
    await connection.end();
  }
}

/**
 * `count` accounts `<prefix>-<n>@bench.test` for the service, copies of the template account
 * (its argon2id hash, so the same password; its verified address; its roles), each with one
 * trusted device whose canary the returned account presents, so a sign-in passes the sign-in
 * checks like a returning user's on their own browser.
 */
export async function seedServiceAccounts(
  databaseUrl: string,
  template: ServiceTemplate,
  opts: { prefix: string; count: number },
): Promise<SeededAccount[]> {
  const salt = `${opts.prefix}.${randomBytes(8).toString('hex')}.`;
  const prefix = sqlString(opts.prefix);
  const userBytes = sqlIdBytes(`CONCAT(${sqlString(salt)}, 'u', seq)`);
  const connection = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  try {
    const database = new URL(databaseUrl).pathname.slice(1);
    await cloneRows(connection, {
      database,
      table: 'users',
      templateWhere: 'tpl.id = ?',
      templateParams: [template.userId],
      from: 1,
      to: opts.count,
      derived: { u: userBytes },
      overrides: {
        id: sqlId('usr', 's.u'),
        email: `CONCAT(${prefix}, '-', s.seq, '@bench.test')`,
        email_normalized: `CONCAT(${prefix}, '-', s.seq, '@bench.test')`,
        created_at: 'UTC_TIMESTAMP(3)',
        updated_at: 'UTC_TIMESTAMP(3)',
      },
    });
    await cloneRows(connection, {
      database,
      table: 'devices',
      templateWhere: 'tpl.id = ?',
      templateParams: [template.deviceId],
      from: 1,
      to: opts.count,
      derived: {
        u: userBytes,
        d: sqlIdBytes(`CONCAT(${sqlString(salt)}, 'd', seq)`),
        c: sqlCanary(`CONCAT(${sqlString(salt)}, 'c', seq)`),
      },
      overrides: {
        id: sqlId('dev', 's.d'),
        user_id: sqlId('usr', 's.u'),
        canary_hash: sqlCanaryHash('s.c'),
        created_at: 'UTC_TIMESTAMP(3)',
        last_seen_at: 'UTC_TIMESTAMP(3)',
        trusted_at: 'UTC_TIMESTAMP(3)',
      },
    });
  } finally {
    await connection.end();
  }
  return Array.from({ length: opts.count }, (_, i) => ({
    email: `${opts.prefix}-${i + 1}@bench.test`,
    canary: seededCanary(salt, `c${i + 1}`),
  }));
}

/**
 * `count` better-auth accounts `<prefix>-<n>@bench.test` on one peer, copies of its template
 * account (its `user` row and its `credential` account row with the password hash the peer
 * computed), with ids of better-auth's length (32 characters).
 */
export async function seedBetterAuthAccounts(
  databaseUrl: string,
  templateEmail: string,
  opts: { prefix: string; count: number },
): Promise<string[]> {
  const salt = sqlString(`${opts.prefix}.${randomBytes(8).toString('hex')}.`);
  const prefix = sqlString(opts.prefix);
  const connection = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  try {
    const database = new URL(databaseUrl).pathname.slice(1);
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT u.id AS userId, a.id AS accountId FROM `user` u JOIN `account` a ON a.userId = u.id AND a.providerId = 'credential' WHERE u.email = ?",
      [templateEmail],
    );
    const template = rows[0];
    if (!template) throw new Error(`no better-auth account for ${templateEmail}`);
    const userId = `LEFT(SHA2(CONCAT(${salt}, 'u', s.seq), 256), 32)`;
    await cloneRows(connection, {
      database,
      table: 'user',
      templateWhere: 'tpl.id = ?',
      templateParams: [template.userId],
      from: 1,
      to: opts.count,
      overrides: { id: userId, email: `CONCAT(${prefix}, '-', s.seq, '@bench.test')` },
    });
    await cloneRows(connection, {
      database,
      table: 'account',
      templateWhere: 'tpl.id = ?',
      templateParams: [template.accountId],
      from: 1,
      to: opts.count,
      overrides: { id: `LEFT(SHA2(CONCAT(${salt}, 'a', s.seq), 256), 32)`, accountId: userId, userId },
    });
  } finally {
    await connection.end();
  }
  return Array.from({ length: opts.count }, (_, i) => `${opts.prefix}-${i + 1}@bench.test`);
}
