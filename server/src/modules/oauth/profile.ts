import { emailSchema } from '@iam/shared';
import type { OAuthProfileInput } from './config';

/** What the service keeps of a provider's answer about the person who signed in. */
export interface OAuthProfile {
  /** The provider's stable identifier of the person (`sub`, or the OAuth 2 profile's id). */
  subject: string;
  /** A valid address, or null when the provider gave none (or a malformed one). */
  email: string | null;
  /** True only when the provider asserted that it verified the address. */
  emailVerified: boolean;
  name: string | null;
}

type Json = Record<string, unknown>;

/** OpenID Connect Core §5.7: `sub` is at most 255 ASCII characters. */
const maxSubjectLength = 255;
const maxNameLength = 100;

/**
 * Normalises a mapped profile, or returns null when it has no usable subject. Only a literal
 * `true` (or the string `"true"`, as Apple sends it) counts as a verified address: anything
 * else, absent included, is unverified.
 */
export function toProfile(input: Partial<Record<keyof OAuthProfileInput, unknown>>): OAuthProfile | null {
  const id = input.id;
  const subject = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : typeof id === 'string' ? id : null;
  if (!subject || subject.length > maxSubjectLength || !/^[\x21-\x7e]+$/.test(subject)) return null;
  const parsedEmail = typeof input.email === 'string' ? emailSchema.safeParse(input.email) : null;
  const email = parsedEmail?.success ? parsedEmail.data : null;
  return {
    subject,
    email,
    emailVerified: email !== null && (input.emailVerified === true || input.emailVerified === 'true'),
    name: cleanName(input.name),
  };
}

/**
 * A display name from a provider: NFKC, trimmed, at most 100 characters. Names with markup
 * are dropped (the service refuses markup in free text; a provider's profile is free text).
 */
function cleanName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.normalize('NFKC').replace(/\s+/g, ' ').trim();
  if (!name || /[<>]/.test(name)) return null;
  return Array.from(name).slice(0, maxNameLength).join('');
}

/** The value at a dot path of a JSON object (`data.email`), or undefined. */
export function valueAt(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

/** OpenID Connect Core §5.1 standard claims. */
export function standardClaimsProfile(claims: Json): Partial<Record<keyof OAuthProfileInput, unknown>> {
  const given = typeof claims.given_name === 'string' ? claims.given_name : '';
  const family = typeof claims.family_name === 'string' ? claims.family_name : '';
  const fullName = [given, family].filter(Boolean).join(' ');
  return {
    id: claims.sub,
    email: claims.email,
    emailVerified: claims.email_verified,
    name: typeof claims.name === 'string' ? claims.name : fullName || claims.preferred_username,
  };
}
