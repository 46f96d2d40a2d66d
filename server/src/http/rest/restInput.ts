import { maxRequestBodyInBytes } from '@iam/shared';
import express, { type Request, type Response } from 'express';

/** A call's input, or why the request is refused before anything runs (all `INVALID_INPUT`). */
export type RestInput =
  | { ok: true; input: unknown }
  | { ok: false; status: 400 | 413 | 415; code: 'PARSE_ERROR' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE'; message: string };

const readRaw = express.raw({ type: () => true, limit: maxRequestBodyInBytes, inflate: false });
// RFC 8259 §8.1: JSON exchanged between systems is UTF-8; anything else is refused.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The input of a query (`?input=<JSON>`, usually none) or of a mutation (its JSON body). A body
 * must be `application/json`, so a cross-site HTML form can never produce one (OWASP ASVS 4.0
 * V13.1.5), at most 100 kB and not compressed; an empty body is no input.
 */
export async function readRestInput(req: Request, res: Response, type: 'query' | 'mutation'): Promise<RestInput> {
  if (type === 'query') {
    const raw = req.query.input;
    if (raw === undefined) return { ok: true, input: undefined };
    return typeof raw === 'string' ? parseJson(raw) : parseError();
  }
  if (!hasBody(req)) return { ok: true, input: undefined };
  if (!req.is('application/json')) {
    return { ok: false, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be JSON (Content-Type: application/json).' };
  }
  // A host app parsed the body before the service saw it: take what its JSON parser made.
  if (req.body !== undefined || req.readableEnded) return { ok: true, input: req.body };
  const raw = await readBody(req, res);
  if (raw === 'too large') return { ok: false, status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body is larger than 100 kB.' };
  if (raw === 'compressed') return { ok: false, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body may not be compressed.' };
  if (raw === 'unreadable') return parseError();
  if (raw.byteLength === 0) return { ok: true, input: undefined };
  try {
    return parseJson(strictUtf8.decode(raw));
  } catch {
    return parseError();
  }
}

/** RFC 9112 §6.3: a request has a body when it says how long it is or that it is chunked. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function readBody(req: Request, res: Response): Promise<Uint8Array | 'too large' | 'compressed' | 'unreadable'> {
  return new Promise((resolve) => {
    readRaw(req, res, (error?: unknown) => {
      if (error) {
        const status = (error as { status?: unknown }).status;
        resolve(status === 413 ? 'too large' : status === 415 ? 'compressed' : 'unreadable');
        return;
      }
      const body: unknown = req.body;
      resolve(body instanceof Uint8Array ? body : new Uint8Array(0));
    });
  });
}

function parseJson(text: string): RestInput {
  try {
    return { ok: true, input: JSON.parse(text) as unknown };
  } catch {
    return parseError();
  }
}

function parseError(): RestInput {
  return { ok: false, status: 400, code: 'PARSE_ERROR', message: 'The body is not valid JSON.' };
}
