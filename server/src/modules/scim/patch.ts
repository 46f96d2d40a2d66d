import { patchOpSchema } from './protocol';
import { badRequest } from './scimError';

/**
 * PATCH requests (RFC 7644 §3.5.2): a `PatchOp` message whose `Operations` each `add`,
 * `replace` or `remove`, with or without a `path` (§3.5.2 and the path grammar of §3.10,
 * `attr`, `attr.sub`, `urn:…:attr`, `attr[sub eq "v"]`, `attr[sub eq "v"].sub`). The forms
 * identity providers really send are all read: Okta's `{"op":"replace","value":{"active":false}}`
 * and Entra ID's `{"op":"Replace","path":"active","value":"False"}` (op names in any case,
 * booleans as strings).
 */
export interface PatchPath {
  /** Lower-cased (attribute names are case-insensitive, RFC 7643 §2.1), the core schema's URN removed. */
  attribute: string;
  /** `emails[type eq "work"]`: the values of a multi-valued attribute the operation targets. */
  filter: { attribute: string; value: string } | null;
  /** `name.givenName` or `emails[type eq "work"].value`: lower-cased. */
  subAttribute: string | null;
  /** The path names an extension schema's attribute (e.g. the enterprise User's): the service keeps none. */
  extension: boolean;
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: PatchPath | null;
  value: unknown;
}

const ops = new Set(['add', 'replace', 'remove']);
const namePattern = /^[A-Za-z$][A-Za-z0-9_$-]*$/;
const filterPattern = /^([A-Za-z][A-Za-z0-9_-]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false)$/i;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A path of §3.10; `coreSchema`'s URN may lead it. */
export function parsePatchPath(raw: string, coreSchema: string): PatchPath {
  if (raw.length === 0 || raw.length > 512) throw badRequest('invalidPath', 'The path is empty or too long.');
  let path = raw.trim();
  let extension = false;
  if (path.toLowerCase().startsWith('urn:')) {
    const bracket = path.indexOf('[');
    const head = bracket === -1 ? path : path.slice(0, bracket);
    const cut = head.lastIndexOf(':');
    const urn = head.slice(0, cut);
    if (urn.toLowerCase() !== coreSchema.toLowerCase()) extension = true;
    path = path.slice(cut + 1);
  }
  const match = /^([^.[\]]+)(?:\[([^\]]*)\])?(?:\.([^.[\]]+))?$/.exec(path);
  if (!match?.[1] || !namePattern.test(match[1]) || (match[3] !== undefined && !namePattern.test(match[3]))) {
    throw badRequest('invalidPath', `The path "${raw.slice(0, 100)}" is not one the service reads.`);
  }
  let filter: PatchPath['filter'] = null;
  if (match[2] !== undefined) {
    const inner = filterPattern.exec(match[2].trim());
    if (!inner?.[1] || !inner[2]) throw badRequest('invalidFilter', 'A value filter in a path must be `<attribute> eq "<value>"`.');
    const parsed: unknown = JSON.parse(inner[2]);
    filter = { attribute: inner[1].toLowerCase(), value: String(parsed) };
  }
  return { attribute: match[1].toLowerCase(), filter, subAttribute: match[3]?.toLowerCase() ?? null, extension };
}

/** The operations of a PATCH body, or 400 `invalidSyntax` / `invalidPath`. */
export function parsePatchBody(body: unknown, coreSchema: string, maxOperations: number): PatchOperation[] {
  if (!isRecord(body)) throw badRequest('invalidSyntax', 'The body must be a PatchOp message.');
  const schemas = body.schemas;
  if (
    !Array.isArray(schemas) ||
    !schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === patchOpSchema.toLowerCase())
  ) {
    throw badRequest('invalidSyntax', `The body's schemas must list ${patchOpSchema}.`);
  }
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0 || operations.length > maxOperations) {
    throw badRequest('invalidSyntax', `Operations must be an array of 1 to ${maxOperations} operations.`);
  }
  return operations.map((operation): PatchOperation => {
    if (!isRecord(operation)) throw badRequest('invalidSyntax', 'Each operation must be an object.');
    const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
    if (!ops.has(op)) throw badRequest('invalidSyntax', "Each operation's op must be add, replace or remove.");
    const rawPath = operation.path;
    if (rawPath !== undefined && typeof rawPath !== 'string') throw badRequest('invalidPath', 'A path must be a string.');
    const path = rawPath === undefined || rawPath === '' ? null : parsePatchPath(rawPath, coreSchema);
    if (op === 'remove' && path === null) throw badRequest('noTarget', 'A remove operation needs a path (RFC 7644 §3.5.2.2).');
    if (op !== 'remove' && operation.value === undefined) throw badRequest('invalidValue', `An ${op} operation needs a value.`);
    if (op !== 'remove' && path === null && !isRecord(operation.value)) {
      throw badRequest('invalidValue', 'Without a path, the value must be an object of attributes.');
    }
    return { op: op as PatchOperation['op'], path, value: operation.value };
  });
}

/** A SCIM boolean, also as Entra ID sends it (`"True"`, `"False"`); null for anything else. */
export function booleanOf(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}
