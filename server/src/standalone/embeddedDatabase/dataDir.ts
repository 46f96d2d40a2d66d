import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { DatabaseServer } from './locate';
import { type EmbeddedDatabaseLogger, errorCode, fileSize, runAsRootArgs, runLogged } from './processes';

/** Initialising a data dir: made in a temp dir beside it, published by an atomic rename, its accounts and state file owner-only. */

export const DATABASE_USER = 'iam';

export const PASSWORD_BYTES = 24;

export const STATE_FILE = 'iam-db.json';

export const WORK_DIR_INFIX = '.init-';

export const ABANDONED_WORK_DIR_AGE_IN_MS = 10 * 60_000;

// MariaDB allocates its redo log in full (96 MiB by default); 32 MiB keeps every data dir,
// and every copy the tests make of one, small.
export const REDO_LOG_SIZE = '32M';

export const dataDirStateSchema = z.object({
  user: z.string().min(1),
  password: z.string().min(1),
  port: z.number().int().min(1).max(65_535).nullable(),
});

export type DataDirState = z.infer<typeof dataDirStateSchema>;

/**
 * Makes dataDir an initialised data dir holding the `iam` accounts, unless it already is one;
 * returns whether it did. The work happens in a sibling temp dir that is renamed into place only
 * when complete, so an interrupted first start leaves nothing half-made at dataDir, and processes
 * racing to create the same dir (concurrent test runs sharing a template) all end with the
 * winner's.
 */
export async function initialiseDataDir(
  server: DatabaseServer,
  opts: { dataDir: string; logger: EmbeddedDatabaseLogger },
): Promise<boolean> {
  const dataDir = path.resolve(opts.dataDir);
  if (await isInitialised(dataDir)) return false;
  await assertMissingOrEmpty(dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  await removeAbandonedWorkDirs(dataDir);
  const startedAt = performance.now();
  const workDir = await mkdtemp(`${dataDir}${WORK_DIR_INFIX}`);
  try {
    const freshDir = path.join(workDir, 'data');
    const sqlFile = path.join(workDir, 'accounts.sql');
    const state: DataDirState = {
      user: DATABASE_USER,
      password: randomBytes(PASSWORD_BYTES).toString('hex'),
      port: null,
    };
    await writeFile(sqlFile, accountsSql(server.flavour, state), { mode: 0o600 });
    await runInitialisation(server, freshDir, sqlFile, opts.logger);
    await chmod(freshDir, 0o700);
    await writeState(freshDir, state);
    const published = await publish(freshDir, dataDir);
    opts.logger.info(
      { dataDir, initialisationInMs: Math.round(performance.now() - startedAt) },
      published ? 'initialised database data dir' : 'another process initialised the data dir first',
    );
    return published;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The accounts the service uses, run by the server itself while initialising. `iam` holds all
 * privileges because this private server is the service's alone and the tests create a database
 * per file. `iam@localhost` is the same account over the socket. The password is hex and the user
 * a constant, so neither needs escaping. No root account may log in without a password: MariaDB's
 * root@localhost authenticates by unix socket (the OS user root only), MySQL's is locked.
 */
export function accountsSql(flavour: DatabaseServer['flavour'], { user, password }: DataDirState): string {
  const accounts = ['127.0.0.1', 'localhost'].map((host) => `'${user}'@'${host}'`);
  return [
    // Initialisation runs without grant tables loaded; account statements need them.
    'FLUSH PRIVILEGES;',
    ...accounts.flatMap((account) => [`CREATE USER ${account} IDENTIFIED BY '${password}';`, `GRANT ALL PRIVILEGES ON *.* TO ${account};`]),
    "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';",
    ...(flavour === 'mysql' ? ["ALTER USER 'root'@'localhost' ACCOUNT LOCK;"] : []),
    '',
  ].join('\n');
}

export async function runInitialisation(
  server: DatabaseServer,
  dataDir: string,
  sqlFile: string,
  logger: EmbeddedDatabaseLogger,
): Promise<void> {
  if (server.flavour === 'mysql') {
    const args = ['--no-defaults', '--initialize-insecure', `--datadir=${dataDir}`, `--init-file=${sqlFile}`];
    await runLogged(server.command, [...args, ...runAsRootArgs()], { logger, level: 'debug' });
    return;
  }
  const args = ['--no-defaults', `--datadir=${dataDir}`, '--skip-test-db', `--extra-file=${sqlFile}`];
  await runLogged(server.installCommand, [...args, ...runAsRootArgs(), `--innodb-log-file-size=${REDO_LOG_SIZE}`], {
    logger,
    level: 'debug',
  });
}

export async function isInitialised(dataDir: string): Promise<boolean> {
  return (await fileSize(path.join(dataDir, STATE_FILE))) !== null;
}

export async function assertMissingOrEmpty(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0) {
    throw new Error(
      `${dir} is not empty but holds no ${STATE_FILE}, so it is not a data dir this service created. ` +
        'Remove it, or point the service at another data dir.',
    );
  }
}

/** Work dirs of first starts that died midway; a live one is minutes old at most. */
export async function removeAbandonedWorkDirs(dataDir: string): Promise<void> {
  const parent = path.dirname(dataDir);
  const prefix = `${path.basename(dataDir)}${WORK_DIR_INFIX}`;
  for (const name of await readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(parent, name);
    const { mtimeMs } = await stat(dir);
    if (Date.now() - mtimeMs > ABANDONED_WORK_DIR_AGE_IN_MS) await rm(dir, { recursive: true, force: true });
  }
}

export async function publish(freshDir: string, dataDir: string): Promise<boolean> {
  try {
    // rename(2) replaces a missing or empty dataDir atomically.
    await rename(freshDir, dataDir);
    return true;
  } catch (error) {
    const lostRace = ['ENOTEMPTY', 'EEXIST'].includes(errorCode(error) ?? '') && (await isInitialised(dataDir));
    if (lostRace) return false;
    throw error;
  }
}

export async function readState(dataDir: string): Promise<DataDirState> {
  const file = path.join(dataDir, STATE_FILE);
  const parsed = dataDirStateSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is damaged; remove ${dataDir} to start over with an empty database.`);
  return parsed.data;
}

/** Holds the database password: owner-only, and replaced atomically. */
export async function writeState(dataDir: string, state: DataDirState): Promise<void> {
  const file = path.join(dataDir, STATE_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
