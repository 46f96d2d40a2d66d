import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIamServer, createLogger, type IamServer } from '@iam/server';
import { type RawResponse, send } from '../harness/http';
import type { TestServer } from '../harness/server';

/**
 * Signing for raw requests, done with node:crypto straight from docs/api.md (independently of
 * @iam/client's WebCrypto signer), so a test can sign one thing and send another.
 */
export interface TestKey {
  id: string;
  secret: string;
  procedures?: string[];
}

export const mainKey: TestKey = { id: 'bff-main', secret: 'main BFF secret: 0123456789abcdefghijklmnopqrstuv' };
export const introspectOnlyKey: TestKey = {
  id: 'bff-introspect',
  secret: 'introspect-only secret 0123456789abcdefghijkl',
  procedures: ['bff.introspect'],
};
export const hmacKeys = [mainKey, introspectOnlyKey];

export function nonce(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function sign(input: {
  method: string;
  path: string;
  body: string | Buffer;
  key: Pick<TestKey, 'id' | 'secret'>;
  timestamp: number;
  nonce?: string;
}): Record<string, string> {
  const n = input.nonce ?? nonce();
  const bodyHash = createHash('sha256').update(input.body).digest('hex');
  const canonical = ['v1', input.method, input.path, String(input.timestamp), n, bodyHash].join('\n');
  return {
    'x-iam-key-id': input.key.id,
    'x-iam-timestamp': String(input.timestamp),
    'x-iam-nonce': n,
    'x-iam-signature': createHmac('sha256', Buffer.from(input.key.secret, 'utf8')).update(canonical, 'utf8').digest('hex'),
  };
}

/** The superjson body of one unbatched call. */
export function bodyOf(input: unknown): string {
  return JSON.stringify({ json: input });
}

export function postRaw(baseUrl: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<RawResponse> {
  return send(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

/** Signs `POST <path>` with the key and sends it. */
export function postSigned(
  target: { url: string; clock: { now(): Date } },
  path: string,
  input: unknown,
  options: { key?: TestKey; timestamp?: number; nonce?: string } = {},
): Promise<RawResponse> {
  const body = bodyOf(input);
  const headers = sign({
    method: 'POST',
    path,
    body,
    key: options.key ?? mainKey,
    timestamp: options.timestamp ?? target.clock.now().getTime(),
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
  return postRaw(target.url, path, body, headers);
}

/** Another instance of the service on the same database, listening on its own port. */
export async function startInstance(
  t: TestServer,
  keys: TestKey[] = hmacKeys,
  extra: { redisUrl?: string } = {},
): Promise<{ url: string; iam: IamServer; close(): Promise<void> }> {
  const iam = await createIamServer({
    ...t.config,
    ...extra,
    hmacKeys: keys,
    clock: t.clock,
    hibpApiUrl: null,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const http = createServer(iam.app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    iam,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await iam.close();
    },
  };
}
