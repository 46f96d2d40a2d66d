import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { initialiseDataDir, readState } from './dataDir';
import { findDatabaseServer } from './locate';
import type { EmbeddedDatabaseLogger } from './processes';
import {
  assertDatabaseName,
  createDatabaseIfMissing,
  databaseUrls,
  dataDirFiles,
  launchServer,
  shutDownLeftoverServer,
} from './serverProcess';

/**
 * A private MySQL-compatible server for `pnpm start` and the tests: MariaDB (or MySQL) from the
 * OS, installed with apt-get when missing and allowed, running on loopback with its data under
 * a directory of ours. It is never the system instance and never reads the system's my.cnf.
 */

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

export const DEFAULT_DATABASE = 'iam';

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
  await mkdir(files.tmpDir, { recursive: true, mode: 0o700 });
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
