import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { Logger } from 'pino';
import { z } from 'zod';

/**
 * A private MySQL-compatible server for `pnpm start` and the tests: MariaDB (or MySQL) from the
 * OS, installed with apt-get when missing and allowed, running on loopback with its data under
 * a directory of ours. It is never the system instance and never reads the system's my.cnf.
 */

/** What this module logs through; any pino logger fits. */
export type EmbeddedDatabaseLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface EmbeddedDatabase {
  /** `mysql://iam:…@127.0.0.1:PORT/<database>`, over TCP. */
  url: string;
  /** The same server and user with no database: it may create and drop databases. */
  adminUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartEmbeddedDatabaseOptions {
  /** Where the server keeps its files, e.g. `.data/mysql`; initialised on first start. */
  dataDir: string;
  /** Created when missing. Default `iam`. */
  database?: string;
  logger: EmbeddedDatabaseLogger;
  /** Install mariadb-server with apt-get when no server is found and we run as root. Default true. */
  allowInstall?: boolean;
}

export type DatabaseServer =
  | { flavour: 'mariadb'; version: string; command: string; installCommand: string }
  | { flavour: 'mysql'; version: string; command: string };

const DEFAULT_DATABASE = 'iam';
const DATABASE_USER = 'iam';
const PASSWORD_BYTES = 24;
const STATE_FILE = 'iam-db.json';
const WORK_DIR_INFIX = '.init-';
const ABANDONED_WORK_DIR_AGE_IN_MS = 10 * 60_000;
const READY_TIMEOUT_IN_MS = 30_000;
const STOP_TIMEOUT_IN_MS = 30_000;
const POLL_INTERVAL_IN_MS = 50;
const PROBE_CONNECT_TIMEOUT_IN_MS = 2_000;
const PORT_ATTEMPTS = 3;
const LOG_TAIL_LINES = 25;
// sun_path holds 108 bytes on Linux (104 on macOS), including the terminating NUL.
const MAX_SOCKET_PATH_BYTES = 103;
// MariaDB allocates its redo log in full (96 MiB by default); 32 MiB keeps every data dir,
// and every copy the tests make of one, small.
const REDO_LOG_SIZE = '32M';

const SERVER_NAMES = ['mariadbd', 'mysqld'];
const INSTALL_TOOL_NAMES = ['mariadb-install-db', 'mysql_install_db'];
// Debian keeps the server in /usr/sbin, off an ordinary user's PATH; RHEL in /usr/libexec.
const SERVER_DIRS = ['/usr/sbin', '/usr/libexec', '/usr/local/mysql/bin'];

const NO_SERVER_MESSAGE =
  'No MariaDB or MySQL server found (looked for mariadbd and mysqld on PATH and in ' +
  `${SERVER_DIRS.join(', ')}). Install MariaDB (apt-get install mariadb-server) or MySQL, ` +
  'or set DATABASE_URL=mysql://user:password@host:3306/iam to use a server you run.';

const dataDirStateSchema = z.object({
  user: z.string().min(1),
  password: z.string().min(1),
  port: z.number().int().min(1).max(65_535).nullable(),
});
type DataDirState = z.infer<typeof dataDirStateSchema>;

interface DataDirFiles {
  dataDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  secureFilesDir: string;
}

interface ServerProcess {
  child: ChildProcess;
  /** Settles once the process is gone (or never started); never rejects. */
  exited: Promise<void>;
}

export async function startEmbeddedDatabase(opts: StartEmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const startedAt = performance.now();
  const { logger } = opts;
  const database = opts.database ?? DEFAULT_DATABASE;
  assertDatabaseName(database);
  const files = dataDirFiles(path.resolve(opts.dataDir));
  const server = await findDatabaseServer({ logger, allowInstall: opts.allowInstall ?? true });
  const initialised = await initialiseDataDir(server, { dataDir: files.dataDir, logger });
  const state = await readState(files.dataDir);
  await shutDownLeftoverServer(files, state, logger);
  await mkdir(files.secureFilesDir, { recursive: true, mode: 0o700 });
  const running = await launchServer(server, files, state, logger);
  const urls = databaseUrls(state, running.port, database);
  try {
    await createDatabaseIfMissing(urls.adminUrl, database);
  } catch (error) {
    await running.stop();
    throw error;
  }
  logger.info(
    {
      dataDir: files.dataDir,
      port: running.port,
      server: `${server.flavour} ${server.version}`,
      initialised,
      startupInMs: Math.round(performance.now() - startedAt),
    },
    'embedded database ready',
  );
  return { ...urls, dataDir: files.dataDir, stop: running.stop };
}

/** The first MariaDB or MySQL server that runs here, installing MariaDB when missing and allowed. */
export async function findDatabaseServer(opts: { logger: EmbeddedDatabaseLogger; allowInstall?: boolean }): Promise<DatabaseServer> {
  const found = await locateServer();
  if (found) return found;
  const canInstall = (opts.allowInstall ?? true) && isRoot() && (await runs('apt-get', ['--version']));
  if (!canInstall) throw new Error(NO_SERVER_MESSAGE);
  await installMariaDbWithApt(opts.logger);
  const installed = await locateServer();
  if (!installed) throw new Error(`apt-get installed mariadb-server, but still: ${NO_SERVER_MESSAGE}`);
  return installed;
}

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

// --- Finding and installing the server ---

async function locateServer(): Promise<DatabaseServer | null> {
  for (const command of candidates(SERVER_NAMES, SERVER_DIRS)) {
    const result = await runForOutput(command, ['--version']);
    if (result?.exitCode !== 0) continue;
    const version = /\bVer\s+(\S+)/.exec(result.stdout)?.[1] ?? 'unknown';
    if (!/mariadb/i.test(result.stdout)) return { flavour: 'mysql', version, command };
    const installCommand = await locateInstallTool(command);
    if (installCommand) return { flavour: 'mariadb', version, command, installCommand };
  }
  return null;
}

/** The install tool next to the server first, so that two installations are never mixed. */
async function locateInstallTool(serverCommand: string): Promise<string | null> {
  const serverDir = path.dirname(serverCommand);
  const nearby = path.isAbsolute(serverCommand) ? [serverDir, path.join(serverDir, '../bin'), path.join(serverDir, '../scripts')] : [];
  for (const command of [...candidates([], nearby, INSTALL_TOOL_NAMES), ...INSTALL_TOOL_NAMES]) {
    // Only whether it can be spawned: mariadb-install-db --help exits with 1.
    if (await runForOutput(command, ['--help'])) return command;
  }
  return null;
}

/** Bare names (spawn resolves them on PATH) first, then the same names in each dir. */
function candidates(bareNames: string[], dirs: string[], names = bareNames): string[] {
  return [...bareNames, ...dirs.flatMap((dir) => names.map((name) => path.join(dir, name)))];
}

async function installMariaDbWithApt(logger: EmbeddedDatabaseLogger): Promise<void> {
  logger.info('No MariaDB or MySQL server found: installing mariadb-server with apt-get, once per machine.');
  const update = () => runLogged('apt-get', ['update'], { logger, level: 'info' });
  // `env` adds DEBIAN_FRONTEND to the environment apt-get inherits from us.
  const installArgs = ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', 'mariadb-server'];
  const install = () =>
    runLogged('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...installArgs], {
      logger,
      level: 'info',
      label: 'apt-get',
    });
  // Fresh images ship without package lists; update only when apt does not know the package.
  const listed = await runs('apt-cache', ['show', 'mariadb-server']);
  if (!listed) await update();
  try {
    await install();
  } catch (error) {
    if (!listed) throw error;
    logger.info('apt-get install failed; refreshing stale package lists and retrying.');
    await update();
    await install();
  }
}

// --- Initialising a data dir ---

/**
 * The accounts the service uses, run by the server itself while initialising. `iam` holds all
 * privileges because this private server is the service's alone and the tests create a database
 * per file. `iam@localhost` is the same account over the socket. The password is hex and the user
 * a constant, so neither needs escaping. No root account may log in without a password: MariaDB's
 * root@localhost authenticates by unix socket (the OS user root only), MySQL's is locked.
 */
function accountsSql(flavour: DatabaseServer['flavour'], { user, password }: DataDirState): string {
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

async function runInitialisation(server: DatabaseServer, dataDir: string, sqlFile: string, logger: EmbeddedDatabaseLogger): Promise<void> {
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

async function isInitialised(dataDir: string): Promise<boolean> {
  return (await fileSize(path.join(dataDir, STATE_FILE))) !== null;
}

async function assertMissingOrEmpty(dir: string): Promise<void> {
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
async function removeAbandonedWorkDirs(dataDir: string): Promise<void> {
  const parent = path.dirname(dataDir);
  const prefix = `${path.basename(dataDir)}${WORK_DIR_INFIX}`;
  for (const name of await readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(parent, name);
    const { mtimeMs } = await stat(dir);
    if (Date.now() - mtimeMs > ABANDONED_WORK_DIR_AGE_IN_MS) await rm(dir, { recursive: true, force: true });
  }
}

async function publish(freshDir: string, dataDir: string): Promise<boolean> {
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

async function readState(dataDir: string): Promise<DataDirState> {
  const file = path.join(dataDir, STATE_FILE);
  const parsed = dataDirStateSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is damaged; remove ${dataDir} to start over with an empty database.`);
  return parsed.data;
}

/** Holds the database password: owner-only, and replaced atomically. */
async function writeState(dataDir: string, state: DataDirState): Promise<void> {
  const file = path.join(dataDir, STATE_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

// --- Running the server ---

function dataDirFiles(dataDir: string): DataDirFiles {
  return {
    dataDir,
    socket: socketPath(dataDir),
    pidFile: path.join(dataDir, 'mysqld.pid'),
    errorLog: path.join(dataDir, 'error.log'),
    // Beside the data dir, not in it: the server would list a directory inside as a database.
    secureFilesDir: `${dataDir}-files`,
  };
}

/** In the data dir unless that path is too long for a unix socket. */
function socketPath(dataDir: string): string {
  const inDataDir = path.join(dataDir, 'mysqld.sock');
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH_BYTES) return inDataDir;
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  return path.join(tmpdir(), `iam-mysqld-${id}.sock`);
}

function serverArgs(server: DatabaseServer, files: DataDirFiles, port: number): string[] {
  return [
    // The machine's my.cnf configures the system server, not this one.
    '--no-defaults',
    `--datadir=${files.dataDir}`,
    `--socket=${files.socket}`,
    `--pid-file=${files.pidFile}`,
    `--log-error=${files.errorLog}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    // Without these the server defaults to latin1; the _bin collation keeps 'jose' and 'josé'
    // apart (NOTES.md, MariaDB).
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_bin',
    // The pools read and write instants as UTC (db/client.ts); NOW() must agree with them.
    '--default-time-zone=+00:00',
    // The server may run as root here: keep LOAD_FILE and INTO OUTFILE off the rest of the disk.
    `--secure-file-priv=${files.secureFilesDir}`,
    ...runAsRootArgs(),
    // A private dev/test server, so durability is traded for speed and memory: commits reach the
    // OS at once but are flushed to disk about once a second (a machine crash, not a process
    // crash, may lose the last second), and there is no binary log (no replicas, no
    // point-in-time recovery).
    '--skip-log-bin',
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-buffer-pool-size=64M',
    '--max-connections=500',
    ...(server.flavour === 'mariadb'
      ? [`--innodb-log-file-size=${REDO_LOG_SIZE}`]
      : // MySQL's X protocol would take port 33060 on every instance, and its performance
        // schema some hundreds of MB.
        ['--mysqlx=OFF', '--performance-schema=OFF']),
  ];
}

/** mariadbd and mysqld refuse to run as root unless told to. */
function runAsRootArgs(): string[] {
  return isRoot() ? ['--user=root'] : [];
}

async function launchServer(
  server: DatabaseServer,
  files: DataDirFiles,
  state: DataDirState,
  logger: EmbeddedDatabaseLogger,
): Promise<{ port: number; stop(): Promise<void> }> {
  let persistedPort = state.port;
  for (let attempt = 1; ; attempt++) {
    const port = await choosePort(persistedPort);
    if (port !== persistedPort) await writeState(files.dataDir, { ...state, port });
    persistedPort = port;
    const logOffset = (await fileSize(files.errorLog)) ?? 0;
    const serverProcess = spawnServer(server.command, serverArgs(server, files, port), logger);
    const outcome = await waitUntilReady(serverProcess, () => canConnect(files.socket, state));
    if (outcome === 'ready') return { port, stop: watchServer(serverProcess, files, logOffset, logger) };
    await stopServerProcess(serverProcess);
    const logTail = await readLogTail(files.errorLog, logOffset);
    // Another program can take the port between our check and the server's bind.
    if (outcome === 'exited' && isPortConflict(logTail) && attempt < PORT_ATTEMPTS) {
      logger.warn({ port }, 'database port was taken while starting; trying another');
      persistedPort = null;
      continue;
    }
    const reason = outcome === 'exited' ? 'the server exited' : `not ready after ${READY_TIMEOUT_IN_MS / 1000} s`;
    throw new Error(`The embedded database did not start (${reason}). Last lines of ${files.errorLog}:\n${logTail}`);
  }
}

function spawnServer(command: string, args: string[], logger: EmbeddedDatabaseLogger): ServerProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  forEachOutputLine(child, (line) => logger.debug({ source: 'mariadbd' }, line));
  // A parent that exits without stop() must not leave the server behind. 'exit' listeners do not
  // run when the parent dies of a signal; the next start shuts such an orphan down.
  const killOnExit = () => child.kill('SIGTERM');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.on('error', (error) => {
      logger.error({ err: error }, 'embedded database process error');
      if (child.pid === undefined) resolve();
    });
  });
  void exited.then(() => process.off('exit', killOnExit));
  return { child, exited };
}

/** Logs an exit nobody asked for; returns the idempotent stop(). */
function watchServer(
  serverProcess: ServerProcess,
  files: DataDirFiles,
  logOffset: number,
  logger: EmbeddedDatabaseLogger,
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  void serverProcess.exited.then(async () => {
    if (stopping) return;
    const { exitCode, signalCode } = serverProcess.child;
    const logTail = await readLogTail(files.errorLog, logOffset);
    logger.error({ exitCode, signal: signalCode, logTail }, 'embedded database exited unexpectedly');
  });
  return () => {
    stopping ??= stopServerProcess(serverProcess).then(() => logger.info({ dataDir: files.dataDir }, 'embedded database stopped'));
    return stopping;
  };
}

async function stopServerProcess({ child, exited }: ServerProcess): Promise<void> {
  child.kill('SIGTERM');
  if (await settlesWithin(exited, STOP_TIMEOUT_IN_MS)) return;
  child.kill('SIGKILL');
  await exited;
}

async function waitUntilReady({ exited }: ServerProcess, isReady: () => Promise<boolean>): Promise<'ready' | 'exited' | 'timeout'> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = performance.now() + READY_TIMEOUT_IN_MS;
  while (performance.now() < deadline) {
    if (await isReady()) return 'ready';
    if (hasExited) return 'exited';
    await sleep(POLL_INTERVAL_IN_MS);
  }
  return 'timeout';
}

/**
 * A server still answering on this data dir is the orphan of a run that died without stop()
 * (killed, or crashed). We shut it down and start our own rather than adopt it: the server then
 * always runs with this version's flags, and stop() always stops a child we can wait for. One
 * data dir serves one process at a time; InnoDB would refuse a second server on it anyway.
 */
async function shutDownLeftoverServer(files: DataDirFiles, state: DataDirState, logger: EmbeddedDatabaseLogger): Promise<void> {
  const connection = await connectOverSocket(files.socket, state);
  if (!connection) return;
  const pid = await readPid(files.pidFile);
  logger.warn({ dataDir: files.dataDir, pid }, 'a database server left by an earlier run is running; shutting it down');
  try {
    await connection.query('SHUTDOWN');
  } catch (error) {
    if (errorCode(error) !== 'PROTOCOL_CONNECTION_LOST') throw error;
  } finally {
    connection.destroy();
  }
  // The server removes its pid file as its last act; a zombie nobody reaps would still look alive.
  const isGone = async () => (await readPid(files.pidFile)) === null || (pid !== null && !isAlive(pid));
  if (!(await pollUntil(isGone, STOP_TIMEOUT_IN_MS))) {
    throw new Error(`The database server left running on ${files.dataDir} (pid ${pid}) did not shut down.`);
  }
}

async function connectOverSocket(socketPath: string, { user, password }: DataDirState) {
  try {
    return await mysql.createConnection({ socketPath, user, password, connectTimeout: PROBE_CONNECT_TIMEOUT_IN_MS });
  } catch {
    // Missing socket, refused, or still starting: all mean "not accepting us yet".
    return null;
  }
}

async function canConnect(socketPath: string, state: DataDirState): Promise<boolean> {
  const connection = await connectOverSocket(socketPath, state);
  await connection?.end();
  return connection !== null;
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: adminUrl });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await connection.end();
  }
}

function databaseUrls({ user, password }: DataDirState, port: number, database: string) {
  const admin = new URL(`mysql://127.0.0.1:${port}`);
  admin.username = user;
  admin.password = password;
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return { url: url.href, adminUrl: admin.href };
}

function assertDatabaseName(name: string): void {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`Invalid database name: ${JSON.stringify(name)}`);
}

// --- Ports ---

async function choosePort(persisted: number | null): Promise<number> {
  if (persisted !== null && (await listenOnce(persisted)) !== null) return persisted;
  const port = await listenOnce(0);
  if (port === null) throw new Error('Found no free TCP port on 127.0.0.1 for the embedded database.');
  return port;
}

/** The loopback port we could bind (0 asks for any), or null when it is taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

function isPortConflict(logTail: string): boolean {
  return /Address already in use|Bind on TCP\/IP port/i.test(logTail);
}

// --- Processes, files and small helpers ---

/** Runs a command, sending its output lines to the logger; rejects with the last lines on failure. */
async function runLogged(
  command: string,
  args: string[],
  opts: { logger: EmbeddedDatabaseLogger; level: 'debug' | 'info'; label?: string },
): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const recentLines: string[] = [];
  const source = opts.label ?? path.basename(command);
  forEachOutputLine(child, (line) => {
    opts.logger[opts.level]({ source }, line);
    recentLines.push(line);
    if (recentLines.length > LOG_TAIL_LINES) recentLines.shift();
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${exitCode}):\n${recentLines.join('\n')}`);
  }
}

/** stdout and the exit code, or null when the command cannot be spawned at all. */
function runForOutput(command: string, args: string[]): Promise<{ stdout: string; exitCode: number | null } | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', () => resolve(null));
    child.once('close', (exitCode) => resolve({ stdout, exitCode }));
  });
}

async function runs(command: string, args: string[]): Promise<boolean> {
  return (await runForOutput(command, args))?.exitCode === 0;
}

function forEachOutputLine(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
  }
}

async function readLogTail(file: string, fromOffset: number): Promise<string> {
  try {
    const lines = (await readFile(file)).subarray(fromOffset).toString('utf8').split('\n').filter(Boolean);
    return lines.slice(-LOG_TAIL_LINES).join('\n');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return '(no error log was written)';
    throw error;
  }
}

async function readPid(pidFile: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

async function fileSize(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function pollUntil(condition: () => Promise<boolean>, timeoutInMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutInMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await sleep(POLL_INTERVAL_IN_MS);
  }
  return false;
}

function settlesWithin(promise: Promise<unknown>, timeoutInMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutInMs);
    const settle = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
