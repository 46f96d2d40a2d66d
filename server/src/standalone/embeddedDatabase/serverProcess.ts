import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { type DataDirState, REDO_LOG_SIZE, writeState } from './dataDir';
import type { DatabaseServer } from './locate';
import {
  type EmbeddedDatabaseLogger,
  errorCode,
  fileSize,
  forEachOutputLine,
  isAlive,
  POLL_INTERVAL_IN_MS,
  pollUntil,
  readLogTail,
  readPid,
  runAsRootArgs,
  settlesWithin,
} from './processes';

/** Running the server: its files, arguments, launch with retries on port conflicts, readiness, shutdown, and the databases in it. */

export const READY_TIMEOUT_IN_MS = 30_000;

export const STOP_TIMEOUT_IN_MS = 30_000;

export const PROBE_CONNECT_TIMEOUT_IN_MS = 2_000;

export const PORT_ATTEMPTS = 3;

// sun_path holds 108 bytes on Linux (104 on macOS), including the terminating NUL.
export const MAX_SOCKET_PATH_BYTES = 103;

export interface DataDirFiles {
  dataDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  secureFilesDir: string;
  /** The server's own temporary files (on-disk temporary tables, sort files). */
  tmpDir: string;
}

export interface ServerProcess {
  child: ChildProcess;
  /** Settles once the process is gone (or never started); never rejects. */
  exited: Promise<void>;
}

export function dataDirFiles(dataDir: string): DataDirFiles {
  return {
    dataDir,
    socket: socketPath(dataDir),
    pidFile: path.join(dataDir, 'mysqld.pid'),
    errorLog: path.join(dataDir, 'error.log'),
    // Beside the data dir, not in it: the server would list a directory inside as a database.
    secureFilesDir: `${dataDir}-files`,
    // Its own, not the machine's /tmp: a cleaner of /tmp must not delete a temporary table
    // under a running query ("Error on delete of '/tmp/#sql-temptable-…'").
    tmpDir: `${dataDir}-tmp`,
  };
}

/** In the data dir unless that path is too long for a unix socket. */
export function socketPath(dataDir: string): string {
  const inDataDir = path.join(dataDir, 'mysqld.sock');
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH_BYTES) return inDataDir;
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  return path.join(tmpdir(), `iam-mysqld-${id}.sock`);
}

export function serverArgs(server: DatabaseServer, files: DataDirFiles, port: number): string[] {
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
    // apart (measured: the database is CPU-bound, not disk-bound).
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_bin',
    // The pools read and write instants as UTC (db/client.ts); NOW() must agree with them.
    '--default-time-zone=+00:00',
    // The server may run as root here: keep LOAD_FILE and INTO OUTFILE off the rest of the disk.
    `--secure-file-priv=${files.secureFilesDir}`,
    `--tmpdir=${files.tmpDir}`,
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

export async function launchServer(
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

export function spawnServer(command: string, args: string[], logger: EmbeddedDatabaseLogger): ServerProcess {
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
export function watchServer(
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

export async function stopServerProcess({ child, exited }: ServerProcess): Promise<void> {
  child.kill('SIGTERM');
  if (await settlesWithin(exited, STOP_TIMEOUT_IN_MS)) return;
  child.kill('SIGKILL');
  await exited;
}

export async function waitUntilReady({ exited }: ServerProcess, isReady: () => Promise<boolean>): Promise<'ready' | 'exited' | 'timeout'> {
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
export async function shutDownLeftoverServer(files: DataDirFiles, state: DataDirState, logger: EmbeddedDatabaseLogger): Promise<void> {
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

export async function connectOverSocket(socketPath: string, { user, password }: DataDirState) {
  try {
    return await mysql.createConnection({ socketPath, user, password, connectTimeout: PROBE_CONNECT_TIMEOUT_IN_MS });
  } catch {
    // Missing socket, refused, or still starting: all mean "not accepting us yet".
    return null;
  }
}

export async function canConnect(socketPath: string, state: DataDirState): Promise<boolean> {
  const connection = await connectOverSocket(socketPath, state);
  await connection?.end();
  return connection !== null;
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: adminUrl });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await connection.end();
  }
}

export function databaseUrls({ user, password }: DataDirState, port: number, database: string) {
  const admin = new URL(`mysql://127.0.0.1:${port}`);
  admin.username = user;
  admin.password = password;
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return { url: url.href, adminUrl: admin.href };
}

export function assertDatabaseName(name: string): void {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`Invalid database name: ${JSON.stringify(name)}`);
}

export async function choosePort(persisted: number | null): Promise<number> {
  if (persisted !== null && (await listenOnce(persisted)) !== null) return persisted;
  const port = await listenOnce(0);
  if (port === null) throw new Error('Found no free TCP port on 127.0.0.1 for the embedded database.');
  return port;
}

/** The loopback port we could bind (0 asks for any), or null when it is taken. */
export function listenOnce(port: number): Promise<number | null> {
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

export function isPortConflict(logTail: string): boolean {
  return /Address already in use|Bind on TCP\/IP port/i.test(logTail);
}
