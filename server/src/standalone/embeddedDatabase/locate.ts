import path from 'node:path';
import { installMariaDbWithApt } from './install';
import { type EmbeddedDatabaseLogger, isRoot, runForOutput, runs } from './processes';

/** Finding a MariaDB or MySQL server on this machine (installing MariaDB when missing and allowed). */

export type DatabaseServer =
  | { flavour: 'mariadb'; version: string; command: string; installCommand: string }
  | { flavour: 'mysql'; version: string; command: string };

export const SERVER_NAMES = ['mariadbd', 'mysqld'];

export const INSTALL_TOOL_NAMES = ['mariadb-install-db', 'mysql_install_db'];

// Debian keeps the server in /usr/sbin, off an ordinary user's PATH; RHEL in /usr/libexec.
export const SERVER_DIRS = ['/usr/sbin', '/usr/libexec', '/usr/local/mysql/bin'];

export const NO_SERVER_MESSAGE =
  'No MariaDB or MySQL server found (looked for mariadbd and mysqld on PATH and in ' +
  `${SERVER_DIRS.join(', ')}). Install MariaDB (apt-get install mariadb-server) or MySQL, ` +
  'or set DATABASE_URL=mysql://user:password@host:3306/iam to use a server you run.';

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

export async function locateServer(): Promise<DatabaseServer | null> {
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
export async function locateInstallTool(serverCommand: string): Promise<string | null> {
  const serverDir = path.dirname(serverCommand);
  const nearby = path.isAbsolute(serverCommand) ? [serverDir, path.join(serverDir, '../bin'), path.join(serverDir, '../scripts')] : [];
  for (const command of [...candidates([], nearby, INSTALL_TOOL_NAMES), ...INSTALL_TOOL_NAMES]) {
    // Only whether it can be spawned: mariadb-install-db --help exits with 1.
    if (await runForOutput(command, ['--help'])) return command;
  }
  return null;
}

/** Bare names (spawn resolves them on PATH) first, then the same names in each dir. */
export function candidates(bareNames: string[], dirs: string[], names = bareNames): string[] {
  return [...bareNames, ...dirs.flatMap((dir) => names.map((name) => path.join(dir, name)))];
}
