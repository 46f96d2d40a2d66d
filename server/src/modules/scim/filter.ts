import { badRequest } from './scimError';

/**
 * The filters the service answers (RFC 7644 §3.4.2.2): one `eq` comparison of an attribute
 * with a string, which is what identity providers send to find a resource before creating it
 * (Okta: `userName eq "…"`, Entra ID: `userName eq "…"`, `externalId eq "…"`, `displayName eq
 * "…"`). Attribute names are case-insensitive (RFC 7643 §2.1) and may carry the core schema's
 * URN. Anything else is 400 `invalidFilter`, never a guess.
 */
export interface EqFilter {
  /** The attribute as the caller's `allowed` list spells it. */
  attribute: string;
  value: string;
}

const maxFilterLength = 1024;
const filterPattern = /^\s*((?:urn:[A-Za-z0-9:._-]+:)?[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)?)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i;

export function parseEqFilter(filter: string, allowed: readonly string[], coreSchema: string): EqFilter {
  if (filter.length > maxFilterLength) throw badRequest('invalidFilter', 'The filter is too long.');
  const match = filterPattern.exec(filter);
  if (!match?.[1] || !match[2]) {
    throw badRequest('invalidFilter', `Only \`<attribute> eq "<value>"\` filters are supported, on ${allowed.join(', ')}.`);
  }
  let path = match[1];
  if (path.toLowerCase().startsWith(`${coreSchema.toLowerCase()}:`)) path = path.slice(coreSchema.length + 1);
  const attribute = allowed.find((name) => name.toLowerCase() === path.toLowerCase());
  if (!attribute) throw badRequest('invalidFilter', `Filtering is supported on ${allowed.join(', ')}.`);
  let value: unknown;
  try {
    value = JSON.parse(match[2]);
  } catch {
    throw badRequest('invalidFilter', 'The filter value is not a valid string.');
  }
  if (typeof value !== 'string') throw badRequest('invalidFilter', 'The filter value is not a valid string.');
  return { attribute, value };
}

/** `startIndex` and `count` of a list (RFC 7644 §3.4.2.4): 1-based, a bad or missing value is the default. */
export function pageOf(query: { startIndex?: unknown; count?: unknown }, maxCount: number): { startIndex: number; count: number } {
  const number = (value: unknown): number | null => {
    if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value)) return null;
    return Number(value);
  };
  const start = number(query.startIndex);
  const count = number(query.count);
  return {
    // "A value less than 1 SHALL be interpreted as 1."
    startIndex: start === null || start < 1 ? 1 : start,
    // "A negative value SHALL be interpreted as 0"; above the service's maximum, the maximum (§3.4.2.4).
    count: count === null ? maxCount : Math.min(Math.max(count, 0), maxCount),
  };
}
