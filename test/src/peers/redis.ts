import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { findOrInstall } from '../harness/aptInstall';

export interface RedisPeer extends AsyncDisposable {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** A client for assertions. */
  client: Redis;
  close(): Promise<void>;
}

/**
 * A private Redis server on loopback (Debian's redis-server, installed with apt when
 * missing and running as root — the same rule as the embedded database), with no
 * persistence: the shared store of several service instances in tests.
 */
export async function startRedisPeer(): Promise<RedisPeer> {
  const command = await findRedisServer();
  const port = await freePort();
  const child = spawn(
    command,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (times) => (times > 50 ? null : 100) });
  client.on('error', () => {
    // Reported through the commands that fail.
  });
  await waitForPing(client, child);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.disconnect();
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  };
  return { url, client, close, [Symbol.asyncDispose]: close };
}

function findRedisServer(): Promise<string> {
  return findOrInstall({
    candidates: ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'],
    aptPackage: 'redis-server',
    // Its maintainer scripts would start a redis-server on 6379; the tests start their own.
    keepServicesDown: true,
  });
}

async function waitForPing(client: Redis, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    try {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('redis-server did not answer in 15 s');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
