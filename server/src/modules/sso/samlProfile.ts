import type { Profile } from '@node-saml/node-saml';
import { type OAuthProfile, toProfile } from '../oauth/profile';

/**
 * Who a verified SAML assertion says signed in (the profile node-saml built from the signed
 * bytes only). A NameID that is not transient is the subject; null when there is no usable one.
 */

const nameIdFormatEmail = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
/** SAML 2.0 Core §8.3.8: a transient identifier names nobody twice, so it cannot key an account. */
const nameIdFormatTransient = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

/** OASIS/X.500 and Microsoft claim names IdPs commonly send. */
const emailAttributes = [
  'email',
  'mail',
  'emailAddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const nameAttributes = [
  'displayName',
  'name',
  'urn:oid:2.16.840.1.113730.3.1.241',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  'http://schemas.microsoft.com/identity/claims/displayname',
  'cn',
];
const givenNameAttributes = ['givenName', 'firstName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'];
const surnameAttributes = ['sn', 'surname', 'lastName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'];

function firstString(attributes: Record<string, unknown>, names: readonly string[]): string | null {
  for (const name of names) {
    const value = attributes[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && first.trim() !== '') return first.trim();
  }
  return null;
}

/**
 * Who signed in: the NameID is the subject (a transient one is refused), the address comes
 * from the configured attribute, a standard one, or an emailAddress-format NameID. The address
 * counts as verified: the organization's directory is authoritative for its own domains, and
 * `signInWithProvider` believes it only at the organization's verified domains.
 */
export function samlProfileOf(
  profile: Pick<Profile, 'nameID' | 'nameIDFormat'> & { attributes?: unknown },
  emailAttribute: string | null,
): { profile: OAuthProfile; nameIdFormat: string | null } | null {
  const nameIdFormat = typeof profile.nameIDFormat === 'string' ? profile.nameIDFormat : null;
  if (typeof profile.nameID !== 'string' || nameIdFormat === nameIdFormatTransient) return null;
  const attributes = (typeof profile.attributes === 'object' && profile.attributes !== null ? profile.attributes : {}) as Record<
    string,
    unknown
  >;
  const email =
    firstString(attributes, emailAttribute ? [emailAttribute] : emailAttributes) ??
    (nameIdFormat === nameIdFormatEmail ? profile.nameID.trim() : null);
  const given = firstString(attributes, givenNameAttributes);
  const surname = firstString(attributes, surnameAttributes);
  const name = firstString(attributes, nameAttributes) ?? ([given, surname].filter(Boolean).join(' ') || null);
  const mapped = toProfile({ id: profile.nameID.trim(), email, emailVerified: email !== null, name });
  return mapped ? { profile: mapped, nameIdFormat } : null;
}
