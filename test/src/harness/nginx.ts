import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findOrInstall } from './aptInstall';
import { freePort } from './standalone';

/**
 * nginx from Debian's package (installed when missing, its own service kept down) as the load
 * balancer in front of several service instances on loopback, configured as docs/operations.md
 * recommends: round robin, passive health checks (an upstream nginx could not reach, or that
 * answered a GET with 503, gets nothing for `failTimeout`), and the next upstream tried when one
 * fails before the request reached it. Its configuration, pid,
 * temp files and logs live in one temp dir that stop() removes.
 */
export interface NginxBalancer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** nginx's error log so far (upstreams it marked failed show here). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

export async function startNginx(options: { upstreams: string[]; failTimeoutInSeconds?: number }): Promise<NginxBalancer> {
  const binary = await findOrInstall({ candidates: ['/usr/sbin/nginx'], aptPackage: 'nginx', keepServicesDown: true });
  const dir = await mkdtemp(path.join(tmpdir(), 'iam-nginx-'));
  // Its workers run as an unprivileged user when nginx starts as root: they write the temp dirs.
  await chmod(dir, 0o755);
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(dir, temp), { mode: 0o777 });
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await chmod(path.join(dir, temp), 0o777);
  const port = await freePort();
  const failTimeout = options.failTimeoutInSeconds ?? 2;
  const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream iam {
${options.upstreams.map((upstream) => `    server ${upstream} max_fails=1 fail_timeout=${failTimeout}s;`).join('\n')}
    keepalive 16;
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://iam;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_503;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 15s;
    }
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  await writeFile(confFile, conf);
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const errorLog = () => readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await errorLog();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start:\n${stderr}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) {
      // SIGQUIT would wait for keep-alive connections; SIGTERM is nginx's fast shutdown.
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    }
    await rm(dir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${port}`, errorLog, stop, [Symbol.asyncDispose]: stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
