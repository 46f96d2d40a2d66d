import { type EmbeddedDatabaseLogger, runLogged, runs } from './processes';

/** Installing MariaDB from the OS packages (Debian: apt-get), once per machine. */

export async function installMariaDbWithApt(logger: EmbeddedDatabaseLogger): Promise<void> {
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
