import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findDatabaseServer, initialiseDataDir } from '@iam/server/standalone';
import mysql from 'mysql2/promise';
import { findOrInstall } from './aptInstall';
import { freePort } from './standalone';

/**
 * A MariaDB Galera cluster on loopback, from Debian's packages (`galera-4`, `rsync` for state
 * transfer; installed when missing): node 1 bootstraps a new cluster from a copy of the test
 * template's data dir, the others join empty and receive a full state transfer (SST) from it.
 * A node killed and started again rejoins with an incremental transfer (IST) from the cache of
 * the nodes that stayed. Every node has its own my.cnf (the SST scripts read it), ports and
 * data dir under one temp dir that stop() removes.
 */

export interface GaleraNode {
  index: number;
  port: number;
  /** `mysql://iam:…@127.0.0.1:PORT/`: may create and drop databases. */
  adminUrl: string;
  running(): boolean;
}

export interface GaleraCluster extends AsyncDisposable {
  nodes: GaleraNode[];
  /** `mysql://…/<database>` on node `index`. */
  urlOf(index: number, database: string): string;
  /** SIGKILL: the node drops out without a word, as a crashed machine does. */
  kill(index: number): Promise<void>;
  /** Starts a stopped node again and waits until it has rejoined and is synced. */
  restart(index: number): Promise<void>;
  /** `wsrep_cluster_size` as node `index` sees it. */
  clusterSize(index: number): Promise<number>;
  /** Waits until node `index` sees `size` members. */
  waitForSize(index: number, size: number, timeoutInMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const PROVIDER = '/usr/lib/galera/libgalera_smm.so';

export async function startGaleraCluster(options: { size?: number; log?: (line: string) => void } = {}): Promise<GaleraCluster> {
  const size = options.size ?? 3;
  const log = options.log ?? ((line: string) => process.stderr.write(`[galera] ${line}\n`));
  await findOrInstall({ candidates: [PROVIDER], aptPackage: 'galera-4', keepServicesDown: true });
  await findOrInstall({ candidates: ['/usr/bin/rsync'], aptPackage: 'rsync', keepServicesDown: true });
  const logger = { debug() {}, info() {}, warn: log, error: log } as never;
  const server = await findDatabaseServer({ logger });
  if (server.flavour !== 'mariadb') throw new Error(`Galera needs MariaDB; found ${server.flavour} ${server.version}`);
  const template = path.join(tmpdir(), `iam-test-mariadb-template-${server.version.replace(/[^\w.-]/g, '_')}`);
  await initialiseDataDir(server, { dataDir: template, logger });
  const { user, password } = JSON.parse(await readFile(path.join(template, 'iam-db.json'), 'utf8')) as { user: string; password: string };

  const root = await mkdtemp(path.join(tmpdir(), 'iam-galera-'));
  await chmod(root, 0o711);
  const nobody = await unprivilegedAccount();
  const ports = await distinctPorts(size * 4);
  const members = Array.from({ length: size }, (_, index) => ({
    index,
    port: ports[index * 4] as number,
    groupPort: ports[index * 4 + 1] as number,
    istPort: ports[index * 4 + 2] as number,
    sstPort: ports[index * 4 + 3] as number,
    dir: path.join(root, `node${index + 1}`),
    child: null as ChildProcess | null,
    exited: Promise.resolve() as Promise<void>,
  }));
  const clusterAddress = `gcomm://${members.map((member) => `127.0.0.1:${member.groupPort}`).join(',')}`;
  const adminUrlOf = (port: number) => `mysql://${user}:${password}@127.0.0.1:${port}/`;

  const configOf = (member: (typeof members)[number]) =>
    [
      '[mysqld]',
      `datadir=${path.join(member.dir, 'data')}`,
      `socket=${path.join(member.dir, 'mysqld.sock')}`,
      `pid-file=${path.join(member.dir, 'mysqld.pid')}`,
      `log-error=${path.join(member.dir, 'error.log')}`,
      `tmpdir=${path.join(member.dir, 'tmp')}`,
      `port=${member.port}`,
      'bind-address=127.0.0.1',
      'user=root',
      'skip-name-resolve',
      // What Galera requires: row-based replication, InnoDB, interleaved auto-increment locks.
      'binlog_format=ROW',
      'default_storage_engine=InnoDB',
      'innodb_autoinc_lock_mode=2',
      'innodb_buffer_pool_size=64M',
      'innodb_log_file_size=32M',
      'innodb_flush_log_at_trx_commit=2',
      'max_connections=300',
      'wsrep_on=ON',
      `wsrep_provider=${PROVIDER}`,
      'wsrep_cluster_name=iam_test',
      `wsrep_cluster_address=${clusterAddress}`,
      `wsrep_node_address=127.0.0.1:${member.groupPort}`,
      `wsrep_node_name=node${member.index + 1}`,
      // Loopback only; a dead member is noticed within about three seconds (the defaults wait
      // fifteen), so the fault tests see the cluster shrink and grow at a test's pace.
      `wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${member.groupPort};ist.recv_addr=127.0.0.1:${member.istPort};gcache.size=128M;evs.inactive_timeout=PT3S;evs.suspect_timeout=PT2S;evs.keepalive_period=PT0.5S;evs.install_timeout=PT3S"`,
      'wsrep_sst_method=rsync',
      `wsrep_sst_receive_address=127.0.0.1:${member.sstPort}`,
      '',
    ].join('\n');

  const launch = async (member: (typeof members)[number], mode: 'bootstrap' | 'join' | 'rejoin') => {
    const config = path.join(member.dir, 'my.cnf');
    const args = [`--defaults-file=${config}`];
    if (mode === 'bootstrap') args.push('--wsrep-new-cluster');
    if (mode === 'rejoin') {
      // As the packaged service unit does after a crash: recover the last committed position
      // from InnoDB, so the node asks the others for what it missed (IST), not a full copy.
      const position = await recoverPosition(server.command, config, path.join(member.dir, 'recover.log'));
      if (position) args.push(`--wsrep-start-position=${position}`);
      // Should the others' cache no longer hold what it missed, a full copy (SST) follows: the
      // rsync daemon writes as `nobody` there too.
      await chownTree(path.join(member.dir, 'data'), nobody.uid, nobody.gid);
    }
    const child = spawn(server.command, args, {
      stdio: 'ignore',
      // The rsync SST script is found on PATH next to the server's own tools.
      env: { PATH: `${process.env.PATH}:/usr/bin:/usr/sbin`, HOME: member.dir },
    });
    member.child = child;
    member.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitForSynced(member.port, adminUrlOf(member.port), child, 180_000);
    } catch (error) {
      const logs = await Promise.all(
        members.map(async (one) => {
          const text = await readFile(path.join(one.dir, 'error.log'), 'utf8').catch(() => '');
          return `node${one.index + 1}:\n${text.split('\n').slice(-40).join('\n')}`;
        }),
      );
      throw new Error(`Galera node ${member.index + 1} did not come up: ${(error as Error).message}\n${logs.join('\n')}`);
    }
  };

  try {
    for (const member of members) {
      await mkdir(path.join(member.dir, 'tmp'), { recursive: true });
      await writeFile(path.join(member.dir, 'my.cnf'), configOf(member));
      if (member.index === 0) await cp(template, path.join(member.dir, 'data'), { recursive: true });
      else {
        // rsync's daemon on a joiner, started by a root server, writes as `nobody`: the empty
        // data dir it fills is theirs, and the dirs above it may be passed through.
        await mkdir(path.join(member.dir, 'data'), { recursive: true });
        await chown(path.join(member.dir, 'data'), nobody.uid, nobody.gid);
      }
      await chmod(member.dir, 0o711);
    }
    const started = performance.now();
    // Joiners one after the other: each takes a full copy from a donor that is then briefly read-only.
    for (const member of members) await launch(member, member.index === 0 ? 'bootstrap' : 'join');
    log(`${size} nodes synced in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    await stopAll();
    throw error;
  }

  async function stopAll(): Promise<void> {
    await Promise.all(
      members.map(async (member) => {
        if (member.child && member.child.exitCode === null && member.child.signalCode === null) {
          member.child.kill('SIGKILL');
          await member.exited;
        }
      }),
    );
    await rm(root, { recursive: true, force: true });
  }

  const isRunning = (member: (typeof members)[number]) =>
    member.child !== null && member.child.exitCode === null && member.child.signalCode === null;
  const member = (index: number) => {
    const found = members[index];
    if (!found) throw new Error(`no node ${index}`);
    return found;
  };
  const clusterSize = async (index: number) => {
    const connection = await mysql.createConnection({ uri: adminUrlOf(member(index).port), connectTimeout: 2_000 });
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'wsrep_cluster_size'");
      return Number(rows[0]?.Value ?? 0);
    } finally {
      await connection.end();
    }
  };

  const cluster: GaleraCluster = {
    nodes: members.map((one) => ({ index: one.index, port: one.port, adminUrl: adminUrlOf(one.port), running: () => isRunning(one) })),
    urlOf: (index, database) => `${adminUrlOf(member(index).port)}${database}`,
    async kill(index) {
      const one = member(index);
      if (!isRunning(one)) return;
      one.child?.kill('SIGKILL');
      await one.exited;
    },
    async restart(index) {
      const one = member(index);
      if (isRunning(one)) return;
      await launch(one, 'rejoin');
    },
    clusterSize,
    async waitForSize(index, size, timeoutInMs = 30_000) {
      const deadline = Date.now() + timeoutInMs;
      let seen = -1;
      while (Date.now() < deadline) {
        seen = await clusterSize(index).catch(() => -1);
        if (seen === size) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`node ${index + 1} sees ${seen} members, not ${size}`);
    },
    stop: stopAll,
    [Symbol.asyncDispose]: stopAll,
  };
  return cluster;
}

/** Until the node accepts connections and reports itself synced with the cluster. */
async function waitForSynced(port: number, adminUrl: string, child: ChildProcess, timeoutInMs: number): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the server on port ${port} exited (${child.exitCode ?? child.signalCode})`);
    try {
      const connection = await mysql.createConnection({ uri: adminUrl, connectTimeout: 1_000 });
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>(
          "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment')",
        );
        const status = Object.fromEntries(rows.map((row) => [row.Variable_name, row.Value]));
        if (status.wsrep_ready === 'ON' && status.wsrep_local_state_comment === 'Synced') return;
        last = JSON.stringify(status);
      } finally {
        await connection.end();
      }
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not synced after ${timeoutInMs} ms (${last})`);
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** `mariadbd --wsrep-recover`: the `uuid:seqno` it recovered, or null. */
async function recoverPosition(command: string, config: string, logFile: string): Promise<string | null> {
  const child = spawn(command, [`--defaults-file=${config}`, '--wsrep-recover', `--log-error=${logFile}`], { stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return /Recovered position: ([0-9a-f-]+:-?\d+)/.exec(text)?.[1] ?? null;
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, uid, gid);
    else await chown(full, uid, gid);
  }
}

/** `nobody`'s ids from /etc/passwd (Debian: 65534:65534). */
async function unprivilegedAccount(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const fields = passwd
    .split('\n')
    .find((line) => line.startsWith('nobody:'))
    ?.split(':');
  return { uid: Number(fields?.[2] ?? 65534), gid: Number(fields?.[3] ?? 65534) };
}
