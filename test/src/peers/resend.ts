import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message as the Resend API received it. */
export interface ReceivedEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html: string | undefined;
  text: string | undefined;
  /** `tags` as a name → value record. */
  tags: Record<string, string>;
  headers: { authorization: string | undefined; idempotencyKey: string | undefined };
}

export interface ResendPeer {
  /** Base URL to hand the SDK (`new Resend(key, { baseUrl })`). */
  url: string;
  /** Every accepted message, oldest first. */
  messages: ReceivedEmail[];
  /** Answer the next `count` send requests with Resend's error body and `status` instead of sending. */
  failNext(count?: number, status?: number): void;
  /** Sends answered from the idempotency record (a key seen before): each is a delivery made twice. */
  readonly replays: number;
  /** The first message, already received or still to come, that matches. */
  waitFor(predicate: (message: ReceivedEmail) => boolean, timeoutMs?: number): Promise<ReceivedEmail>;
  clear(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface ResendErrorBody {
  statusCode: number;
  name: string;
  message: string;
}

interface Waiter {
  predicate: (message: ReceivedEmail) => boolean;
  resolve: (message: ReceivedEmail) => void;
  reject: (error: Error) => void;
}

// Error names the API uses for each status (resend.com/docs/api-reference/errors).
const errorNames: Record<number, string> = {
  400: 'invalid_idempotency_key',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'concurrent_idempotent_requests',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
};

const tagPattern = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * An in-process stand-in for the Resend HTTP API: `POST /emails` and `POST /emails/batch`, with
 * the status codes and bodies the SDK expects, on 127.0.0.1 and a free port.
 */
export async function startResendPeer(): Promise<ResendPeer> {
  const messages: ReceivedEmail[] = [];
  const waiters = new Set<Waiter>();
  let failures: { remaining: number; status: number } = { remaining: 0, status: 500 };
  // Resend answers a repeated `Idempotency-Key` with the first response and sends nothing more.
  const idempotent = new Map<string, { id: string }>();
  let replays = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, error instanceof Error ? error.message : 'Unexpected error.');
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://peer').pathname;
    if (path !== '/emails' && path !== '/emails/batch') {
      return sendError(response, 404, 'The requested endpoint does not exist.');
    }
    if (request.method !== 'POST') return sendError(response, 405, 'Method is not allowed for the requested path.');

    const authorization = request.headers.authorization;
    if (!authorization?.startsWith('Bearer ') || authorization.length === 'Bearer '.length) {
      return sendError(response, 401, 'Missing API key in the authorization header.');
    }

    const body = await readJson(request);
    if (body === undefined) return sendError(response, 422, 'The request body is not valid JSON.');

    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return sendError(response, failures.status, 'Failure injected by the test.');
    }

    const idempotencyKey = typeof request.headers['idempotency-key'] === 'string' ? request.headers['idempotency-key'] : undefined;
    const earlier = idempotencyKey ? idempotent.get(idempotencyKey) : undefined;
    if (earlier && path === '/emails') {
      replays++;
      return sendJson(response, 200, earlier);
    }

    const batch = path === '/emails/batch';
    const payloads = batch ? body : [body];
    if (!Array.isArray(payloads) || payloads.length === 0 || (batch && payloads.length > 100)) {
      return sendError(response, 422, 'A batch is an array of 1 to 100 emails.');
    }
    const accepted: ReceivedEmail[] = [];
    for (const payload of payloads) {
      const parsed = parseEmail(payload, authorization);
      if (typeof parsed === 'string') return sendError(response, 422, parsed);
      accepted.push(parsed);
    }

    for (const message of accepted) {
      message.headers.idempotencyKey = idempotencyKey;
      receive(message);
    }
    if (idempotencyKey && !batch && accepted[0]) idempotent.set(idempotencyKey, { id: accepted[0].id });
    const ids = accepted.map(({ id }) => ({ id }));
    sendJson(response, 200, batch ? { data: ids } : ids[0]);
  }

  function receive(message: ReceivedEmail): void {
    messages.push(message);
    for (const waiter of waiters) {
      if (waiter.predicate(message)) {
        waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const close = async (): Promise<void> => {
    for (const waiter of waiters) waiter.reject(new Error('The Resend peer was closed'));
    waiters.clear();
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  };

  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    get replays() {
      return replays;
    },
    failNext(count = 1, status = 500) {
      failures = { remaining: count, status };
    },
    waitFor(predicate, timeoutMs = 5_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No matching email within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        const waiter: Waiter = {
          predicate,
          resolve: (message) => {
            clearTimeout(timer);
            resolve(message);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        waiters.add(waiter);
      });
    },
    clear() {
      messages.length = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The fields Resend requires, or the validation message it would answer with. */
function parseEmail(payload: unknown, authorization: string): ReceivedEmail | string {
  if (typeof payload !== 'object' || payload === null) return 'Each email must be an object.';
  const { from, to, subject, html, text, tags } = payload as Record<string, unknown>;
  if (typeof from !== 'string' || from === '') return 'Missing `from` field.';
  const recipients = typeof to === 'string' ? [to] : to;
  if (!isAddressList(recipients) || recipients.length === 0 || recipients.length > 50) {
    return 'Invalid `to` field: 1 to 50 addresses.';
  }
  if (typeof subject !== 'string' || subject === '') return 'Missing `subject` field.';
  if (html !== undefined && typeof html !== 'string') return 'Invalid `html` field.';
  if (text !== undefined && typeof text !== 'string') return 'Invalid `text` field.';
  if (html === undefined && text === undefined) return 'Missing `html` or `text` field.';
  const tagRecord: Record<string, string> = {};
  if (tags !== undefined) {
    if (!Array.isArray(tags)) return 'Invalid `tags` field.';
    for (const tag of tags as unknown[]) {
      const { name, value } = (tag ?? {}) as Record<string, unknown>;
      if (typeof name !== 'string' || typeof value !== 'string' || !tagPattern.test(name) || !tagPattern.test(value)) {
        return 'Tags are name/value pairs of ASCII letters, numbers, underscores or dashes.';
      }
      tagRecord[name] = value;
    }
  }
  return {
    id: randomUUID(),
    from,
    to: recipients,
    subject,
    html,
    text,
    tags: tagRecord,
    headers: { authorization, idempotencyKey: undefined },
  };
}

function isAddressList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.includes('@'));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function sendError(response: ServerResponse, status: number, message: string): void {
  const body: ResendErrorBody = { statusCode: status, name: errorNames[status] ?? 'application_error', message };
  if (status === 429) response.setHeader('retry-after', '1');
  sendJson(response, status, body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
