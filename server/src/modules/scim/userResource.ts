import type { ScimUserAttributes, ScimUserRow } from '../../db/tables';
import { booleanOf, isRecord, type PatchOperation, type PatchPath } from './patch';
import { metaOf, userSchema } from './protocol';
import { badRequest } from './scimError';

/**
 * A SCIM User's representation (RFC 7643 §4.1): what a request's body says, checked, and what
 * a response carries. The service keeps the core attributes below; others (the enterprise
 * extension, phone numbers, addresses, `password`) are accepted and ignored, so that an
 * identity provider's usual payload provisions without errors, and none of them is ever
 * stored or answered.
 */
export interface ScimUserInput {
  userName: string;
  externalId: string | null;
  active: boolean;
  attributes: ScimUserAttributes;
}

const nameParts = ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'] as const;
const simpleTexts = ['displayName', 'nickName', 'title', 'preferredLanguage', 'locale', 'timezone'] as const;
/** Attribute names are case-insensitive (RFC 7643 §2.1): the canonical spelling of each kept one. */
const canonical = new Map(
  ['userName', 'externalId', 'active', 'name', 'emails', ...simpleTexts].map((name) => [name.toLowerCase(), name] as const),
);
const canonicalNamePart = new Map(nameParts.map((name) => [name.toLowerCase(), name] as const));
const maxEmails = 10;

/** Plain text: no control characters and no markup (the console shows it; OWASP ASVS 4.0 V5.1.3, V5.3.3). */
export function plainText(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest('invalidValue', `${field} must be a string.`);
  const text = value.normalize('NFC').trim();
  if (text.length > max) throw badRequest('invalidValue', `${field} is longer than ${max} characters.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f<>]/.test(text)) throw badRequest('invalidValue', `${field} may not contain markup or control characters.`);
  return text.length > 0 ? text : undefined;
}

/** An address as userName carries it (the account's). */
const emailPattern = /^[^\s@<>]{1,64}@[^\s@<>]{1,253}$/;

/** The body of a POST or PUT, or a PATCH's result, as a User the service keeps (400 `invalidValue`/`invalidSyntax` otherwise). */
export function parseUserResource(body: unknown): ScimUserInput {
  if (!isRecord(body)) throw badRequest('invalidSyntax', 'The body must be a User resource.');
  const get = (name: string): unknown => {
    const key = Object.keys(body).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : body[key];
  };
  const userName = plainText(get('userName'), 'userName', 254);
  if (!userName) throw badRequest('invalidValue', "userName is required (the member's address).");
  if (!emailPattern.test(userName)) throw badRequest('invalidValue', 'userName must be an email address.');
  const externalId = plainText(get('externalId'), 'externalId', 255) ?? null;
  const rawActive = get('active');
  const active = rawActive === undefined || rawActive === null ? true : booleanOf(rawActive);
  if (active === null) throw badRequest('invalidValue', 'active must be a boolean.');

  const attributes: ScimUserAttributes = {};
  const rawName = get('name');
  if (rawName !== undefined && rawName !== null) {
    if (!isRecord(rawName)) throw badRequest('invalidValue', 'name must be an object.');
    const name: NonNullable<ScimUserAttributes['name']> = {};
    for (const [key, value] of Object.entries(rawName)) {
      const part = canonicalNamePart.get(key.toLowerCase());
      if (!part) continue;
      const text = plainText(value, `name.${part}`, 200);
      if (text !== undefined) name[part] = text;
    }
    if (Object.keys(name).length > 0) attributes.name = name;
  }
  for (const field of simpleTexts) {
    const text = plainText(get(field), field, field === 'displayName' ? 200 : 100);
    if (text !== undefined) attributes[field] = text;
  }
  const rawEmails = get('emails');
  if (rawEmails !== undefined && rawEmails !== null) {
    if (!Array.isArray(rawEmails) || rawEmails.length > maxEmails)
      throw badRequest('invalidValue', `emails must be an array of at most ${maxEmails}.`);
    attributes.emails = rawEmails.map((entry) => {
      if (!isRecord(entry)) throw badRequest('invalidValue', 'Each of emails must be an object.');
      const value = plainText(entry.value, 'emails.value', 254);
      if (!value || !emailPattern.test(value)) throw badRequest('invalidValue', 'emails.value must be an email address.');
      const type = plainText(entry.type, 'emails.type', 32);
      const primary = entry.primary === undefined ? undefined : booleanOf(entry.primary);
      if (primary === null) throw badRequest('invalidValue', 'emails.primary must be a boolean.');
      return { value, ...(type ? { type } : {}), ...(primary !== undefined ? { primary } : {}) };
    });
  }
  return { userName, externalId, active, attributes };
}

/** The resource as the service answers it. */
export function userResourceOf(baseUrl: string, row: ScimUserRow) {
  const { emails, ...attributes } = row.attributes;
  return {
    schemas: [userSchema],
    id: row.id,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    userName: row.userName,
    ...attributes,
    emails: emails && emails.length > 0 ? emails : [{ value: row.userName, type: 'work', primary: true }],
    active: row.active,
    meta: metaOf(baseUrl, 'User', row),
  };
}

/** The resource's writable attributes as a plain document, the base a PATCH applies to. */
export function userDocumentOf(row: ScimUserRow): Record<string, unknown> {
  return {
    userName: row.userName,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    active: row.active,
    ...structuredClone(row.attributes),
  };
}

function matches(entry: unknown, filter: NonNullable<PatchPath['filter']>): boolean {
  if (!isRecord(entry)) return false;
  const key = Object.keys(entry).find((candidate) => candidate.toLowerCase() === filter.attribute);
  const value = key === undefined ? undefined : entry[key];
  return value !== undefined && String(value).toLowerCase() === filter.value.toLowerCase();
}

function applyAt(document: Record<string, unknown>, path: PatchPath, op: PatchOperation['op'], value: unknown): void {
  if (path.extension) return;
  const attribute = canonical.get(path.attribute);
  if (!attribute) return;
  if (attribute === 'emails') {
    const list = Array.isArray(document.emails) ? [...(document.emails as unknown[])] : [];
    if (path.filter) {
      const filter = path.filter;
      const hit = list.filter((entry) => matches(entry, filter));
      if (op === 'remove') {
        document.emails = path.subAttribute
          ? list.map((entry) => {
              if (!hit.includes(entry) || !isRecord(entry)) return entry;
              const { [path.subAttribute as string]: _gone, ...rest } = entry;
              return rest;
            })
          : list.filter((entry) => !hit.includes(entry));
        return;
      }
      if (hit.length === 0) {
        // Entra ID's `emails[type eq "work"].value` on a user without one adds it.
        const added = path.subAttribute ? { [filter.attribute]: filter.value, [path.subAttribute]: value } : value;
        document.emails = [...list, added];
        return;
      }
      document.emails = list.map((entry) => {
        if (!hit.includes(entry) || !isRecord(entry)) return entry;
        if (path.subAttribute) return { ...entry, [path.subAttribute]: value };
        return isRecord(value) ? { ...entry, ...value } : value;
      });
      return;
    }
    if (op === 'remove') delete document.emails;
    else if (op === 'add') document.emails = [...list, ...(Array.isArray(value) ? value : [value])];
    else document.emails = Array.isArray(value) ? value : [value];
    return;
  }
  if (path.filter) throw badRequest('invalidPath', `${attribute} is not multi-valued.`);
  if (attribute === 'name') {
    const name = isRecord(document.name) ? { ...document.name } : {};
    if (path.subAttribute) {
      const part = canonicalNamePart.get(path.subAttribute);
      if (!part) return;
      if (op === 'remove') delete name[part];
      else name[part] = value;
      document.name = name;
      return;
    }
    if (op === 'remove') delete document.name;
    else if (op === 'add' && isRecord(value)) document.name = { ...name, ...value };
    else document.name = value;
    return;
  }
  if (path.subAttribute) throw badRequest('invalidPath', `${attribute} has no sub-attributes.`);
  if (op === 'remove') delete document[attribute];
  else document[attribute] = value;
}

/**
 * Applies PATCH operations to a User document (RFC 7644 §3.5.2). Without a path, each key of
 * the value is an attribute (or a path, as some providers send `name.givenName`); a key naming
 * the core schema's URN holds attributes of its own; an extension's are ignored.
 */
export function applyUserPatch(document: Record<string, unknown>, operations: PatchOperation[], parsePath: (raw: string) => PatchPath) {
  for (const operation of operations) {
    if (operation.path) {
      applyAt(document, operation.path, operation.op, operation.value);
      continue;
    }
    for (const [key, value] of Object.entries(operation.value as Record<string, unknown>)) {
      if (key.toLowerCase() === userSchema.toLowerCase() && isRecord(value)) {
        for (const [inner, innerValue] of Object.entries(value)) applyAt(document, parsePath(inner), operation.op, innerValue);
        continue;
      }
      if (key.toLowerCase().startsWith('urn:') && !key.toLowerCase().startsWith(`${userSchema.toLowerCase()}:`)) continue;
      applyAt(document, parsePath(key), operation.op, value);
    }
  }
  return document;
}
