import { iamCodeOf } from '@iam/client';
import { type IamErrorCode, isIamErrorCode } from '@iam/shared';
import superjson from 'superjson';
import { expect } from 'vitest';

/**
 * Raw HTTP against the service, for what the typed client cannot send: truly parallel
 * requests with one cookie header, hand-made tokens, malformed bodies, oversized batches.
 */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
}

export async function send(url: string, init: RequestInit = {}): Promise<RawResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** One unbatched tRPC mutation: `POST /trpc/<path>` with a raw body. */
export function post(trpcUrl: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(`${trpcUrl}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

/** One unbatched tRPC query: `GET /trpc/<path>?input=…` with the raw input text. */
export function get(trpcUrl: string, path: string, input: string | undefined, headers: Record<string, string> = {}): Promise<RawResponse> {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(input)}`;
  return send(`${trpcUrl}/${path}${query}`, { headers });
}

/** A bearer header for raw requests. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The superjson-decoded result of a successful unbatched call. */
export function resultOf<T>(response: RawResponse): T {
  const envelope = response.body as { result?: { data?: unknown } } | undefined;
  if (response.status !== 200 || envelope?.result?.data === undefined) {
    throw new Error(`expected a result, got ${response.status}: ${response.text.slice(0, 300)}`);
  }
  return superjson.deserialize(envelope.result.data as Parameters<typeof superjson.deserialize>[0]) as T;
}

export interface WireErrorData {
  iamCode: IamErrorCode;
  code: string;
  httpStatus: number;
  retryAfterSeconds?: number;
  issues?: Array<{ path: string; message: string }>;
}

/**
 * `error.data` of an error response, checked to be well formed. tRPC answers with the
 * superjson envelope `{ error: { json: { message, code, data } } }`; the app's own routes
 * (404, CSRF refusal, express errors) answer with `{ error: { message, data } }`.
 */
export function errorOf(response: RawResponse): WireErrorData {
  const envelope = response.body as { error?: { json?: { data?: unknown }; data?: unknown } } | undefined;
  const data = (envelope?.error?.json?.data ?? envelope?.error?.data) as Partial<WireErrorData> | undefined;
  if (!data || !isIamErrorCode(data.iamCode)) {
    throw new Error(`expected an error with an iamCode, got ${response.status}: ${response.text.slice(0, 300)}`);
  }
  return data as WireErrorData;
}

/** Cookies a response sets, by name; `cleared` when the response deletes it. */
export function setCookies(headers: Headers): Map<string, { value: string; cleared: boolean; attributes: string[] }> {
  const cookies = new Map<string, { value: string; cleared: boolean; attributes: string[] }>();
  for (const line of headers.getSetCookie()) {
    const [pair = '', ...rest] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const attributes = rest.map((attribute) => attribute.trim());
    const value = pair.slice(eq + 1).trim();
    const expires = attributes.find((attribute) => attribute.toLowerCase().startsWith('expires='));
    const maxAge = attributes.find((attribute) => attribute.toLowerCase().startsWith('max-age='));
    const cleared =
      value === '' ||
      (maxAge !== undefined && Number(maxAge.slice('max-age='.length)) <= 0) ||
      (expires !== undefined && Date.parse(expires.slice('expires='.length)) <= Date.now());
    cookies.set(pair.slice(0, eq).trim(), { value, cleared, attributes });
  }
  return cookies;
}

/** Paths of every `stack` key in a parsed JSON value. */
function stackKeys(value: unknown, path = '$', depth = 0): string[] {
  if (depth > 50 || typeof value !== 'object' || value === null) return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === 'stack') found.push(`${path}.${key}`);
    found.push(...stackKeys(child, `${path}.${key}`, depth + 1));
  }
  return found;
}

/** No stack trace, source path, SQL or driver detail in a response (docs/api.md, Transport). */
export function expectNoInternals(response: RawResponse): void {
  expect(stackKeys(response.body), response.text.slice(0, 300)).toEqual([]);
  expect(response.text).not.toMatch(/"stack"/);
  // A V8 stack frame: `at fn (file:line:col)` or `at file:line:col`.
  expect(response.text).not.toMatch(/\bat (?:[^\s()]+ \()?[^\s()]+:\d+:\d+\)?/);
  expect(response.text).not.toMatch(/node_modules|\/src\/|\.ts:\d+/);
  expect(response.text).not.toMatch(/\b(?:select|insert into|update|delete from)\b[^"]*\b(?:from|values|set|where)\b/i);
  expect(response.text).not.toMatch(/\bER_[A-Z_]{3,}|sqlMessage|sqlState|errno/);
}

/** The catalog code a call was refused with (over tRPC, or an in-process IamError); fails the test when the call succeeds. */
export async function refusalOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return iamCodeOf(error) ?? (error as { code?: string }).code;
  }
  throw new Error('expected a refusal');
}
