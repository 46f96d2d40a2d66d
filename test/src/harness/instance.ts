import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import { createAccessTokenStore, createIamClient, type IamClient, iamCodeOf } from '@iam/client';
import { createIamServer, createLogger, type IamConfig } from '@iam/server';
import type { TestServer } from './server';

/** Another instance of the service on the same database, over real HTTP (`await using`). */
export async function startInstance(t: TestServer, extra: Partial<IamConfig> = {}) {
  const iam = await createIamServer({
    ...t.config,
    ...extra,
    clock: t.clock,
    hibpApiUrl: null,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const http = createServer(iam.app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    iam,
    /** A client of this instance holding an access token issued by any instance. */
    clientWith(accessToken: string): IamClient {
      const store = createAccessTokenStore();
      store.set(accessToken);
      return createIamClient({ url: `${url}/trpc`, accessToken: store });
    },
    async [Symbol.asyncDispose]() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await iam.close();
    },
  };
}

/** auth.me's answer code (or 'ok') once it is `expected`, asked every 50 ms for at most `withinMs`. */
export async function meCodeUntil(api: IamClient, expected: string, withinMs = 1_500): Promise<string> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await api.auth.me.query().then(
      () => 'ok',
      (error: unknown) => iamCodeOf(error) ?? 'unknown',
    );
    if (answer === expected || Date.now() > deadline) return answer;
    await pause(50);
  }
}
