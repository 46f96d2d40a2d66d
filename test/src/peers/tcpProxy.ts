import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy extends AsyncDisposable {
  /** `127.0.0.1:PORT`, to put in a URL in place of the target's host and port. */
  host: string;
  /**
   * Stops forwarding, as a proxy or network path that hangs does: every connection stays open
   * and new ones are accepted, but every byte either way is dropped.
   */
  hang(): void;
  /** Forwards again; what was dropped stays lost. */
  resume(): void;
  close(): Promise<void>;
}

/** A TCP proxy on loopback in front of `target`, that a test can make hang. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let forwarding = true;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {
      // Either side going away closes the other below.
    });
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (forwarding) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (forwarding) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    host: `127.0.0.1:${address.port}`,
    hang: () => {
      forwarding = false;
    },
    resume: () => {
      forwarding = true;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
