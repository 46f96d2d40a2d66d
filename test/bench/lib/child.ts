import { type ChildProcess, fork } from 'node:child_process';

/**
 * A helper process of the benchmark (a baseline loop, a bare server, the better-auth peer),
 * run through the same TypeScript loader as this process and driven over IPC: it announces
 * itself with a `ready` message, then answers `{ id, command, args }` with `{ id, result }`
 * or `{ id, error }`.
 */
export interface Child<Ready> {
  process: ChildProcess;
  ready: Ready;
  call<T>(command: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

type Message = { type: 'ready'; info: unknown } | { id: number; result?: unknown; error?: string };

export async function startChild<Ready>(script: string, env: Record<string, string> = {}): Promise<Child<Ready>> {
  const child = fork(script, [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const ready = await new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${script} exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.on('message', (message: Message) => {
      if ('type' in message && message.type === 'ready') {
        child.off('exit', onExit);
        resolve(message.info as Ready);
        return;
      }
      if (!('id' in message)) return;
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`${script}: ${message.error}`));
      else waiter.resolve(message.result);
    });
  });
  child.once('exit', (code) => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${code})`));
    pending.clear();
  });

  return {
    process: child,
    ready,
    call<T>(command: string, args?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${script} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, command, args });
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/** The child's side: announce readiness, then serve commands until the parent goes away. */
export function serveCommands(info: unknown, handlers: Record<string, (args: never) => Promise<unknown>>): void {
  process.on('message', async (message: { id: number; command: string; args: unknown }) => {
    const handler = handlers[message.command];
    try {
      if (!handler) throw new Error(`unknown command ${message.command}`);
      const result = await handler(message.args as never);
      process.send?.({ id: message.id, result });
    } catch (error) {
      process.send?.({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', info });
}
