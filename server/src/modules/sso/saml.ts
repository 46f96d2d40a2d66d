import { type CacheProvider, type Profile, SAML, type SamlConfig, SamlStatusError, ValidateInResponseTo } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import type { SsoConnectionRow } from '../../db/tables';
import { addSeconds } from '../clock';
import { IamError } from '../errors/iamError';
import type { OAuthProfile } from '../oauth/profile';
import { certificatesOf } from './samlCertificates';
import { samlProfileOf } from './samlProfile';

/**
 * SAML 2.0 Web Browser SSO (Profiles §4.1) as a service provider: SP-initiated, an AuthnRequest
 * over HTTP-Redirect, the Response over HTTP-POST to the ACS. XML signature validation and the
 * signature-wrapping defences are node-saml's (xml-crypto underneath): it verifies the assertion's
 * enveloped signature against the configured certificates only (never a key the message carries),
 * requires the signature to reference its own parent by a unique ID, refuses several assertions,
 * and hands back only the bytes the signature covered. Every decision below reads those verified
 * values (`getAssertion()`, the profile node-saml built from them); the unsigned envelope is read
 * only to refuse more (its Status, Destination, Issuer), never to accept anything.
 *
 * node-saml checks: the assertion signature (`wantAssertionsSigned`), the Response's
 * `InResponseTo` against the one request of this flow (`validateInResponseTo: always` with a
 * cache that knows only that ID), the AudienceRestriction (`audience`). Added here: Status,
 * Issuer, Destination, the bearer SubjectConfirmation (Recipient, NotOnOrAfter, InResponseTo),
 * the Conditions' time window against the service's clock, an AuthnStatement, and the refusal
 * of encrypted assertions, DTDs and oversized bodies. The assertion ID's replay check is the
 * caller's (a row in `saml_assertions`).
 */

export type SamlFailureReason =
  | 'signature'
  | 'audience'
  | 'recipient'
  | 'destination'
  | 'expired'
  | 'replayed'
  | 'in_response_to'
  | 'issuer'
  | 'status'
  | 'malformed'
  | 'encrypted'
  | 'weak_algorithm';

export function samlFailure(reason: SamlFailureReason, cause?: unknown): IamError {
  return new IamError('SSO_RESPONSE_INVALID', { reason, cause });
}

/** What the service is to the IdP, for one connection's provider id. */
export interface SamlServiceProvider {
  /** SAML 2.0 Core §8.3.6: the SP's entity ID, the Audience its assertions must name. */
  entityId: string;
  /** The AssertionConsumerService (HTTP-POST binding), the Recipient and Destination. */
  acsUrl: string;
  metadataUrl: string;
}

export function samlServiceProviderOf(publicUrl: string, providerId: string): SamlServiceProvider {
  const entityId = `${publicUrl.replace(/\/+$/, '')}/sso/saml/${providerId}`;
  return { entityId, acsUrl: `${entityId}/acs`, metadataUrl: `${entityId}/metadata` };
}

export interface SamlIdentityProvider {
  entityId: string;
  ssoUrl: string;
  certificates: string[];
  emailAttribute: string | null;
}

/** A SAML connection row as its IdP, or null when it is not one (or holds no certificate). */
export function samlIdentityProviderOf(row: SsoConnectionRow): SamlIdentityProvider | null {
  if (row.type !== 'saml' || !row.samlSsoUrl) return null;
  const certificates = certificatesOf(row.samlCertificates);
  if (certificates.length === 0) return null;
  return { entityId: row.issuer, ssoUrl: row.samlSsoUrl, certificates, emailAttribute: row.samlEmailAttribute };
}

/** SAML 2.0 Core §8.3.7: no format requested; the IdP sends the one configured for this SP. */
const nameIdFormatUnspecified = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const bearerMethod = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const statusSuccess = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const protocolNamespace = 'urn:oasis:names:tc:SAML:2.0:protocol';
const assertionNamespace = 'urn:oasis:names:tc:SAML:2.0:assertion';
const signatureNamespace = 'http://www.w3.org/2000/09/xmldsig#';
/**
 * The signature and digest algorithms accepted (XML Signature 1.1 §6, RFC 6931 identifiers):
 * RSA or ECDSA with SHA-2 only. SHA-1 is refused (NIST SP 800-131A Rev. 2 §5: disallowed for
 * digital signature generation; collisions are practical), and so are HMAC methods, whose
 * "key" an attacker could take from the certificate (OWASP ASVS 4.0 V6.2.5: no insecure
 * algorithms). Read from the message only to refuse.
 */
const acceptedSignatureMethods = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
]);
const acceptedDigestMethods = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);
/** Clocks of the IdP and the SP may differ by this much (SAML 2.0 Core §1.3.3 leaves it to the deployment; 60 s is common). */
export const samlClockSkewInSeconds = 60;
/** A replay-cache row lives until the assertion's NotOnOrAfter, at most this long (an IdP that says "valid for a year" does not fill the table). */
const maxAssertionLifetimeInSeconds = 24 * 3600;
/** A SAMLResponse larger than this is refused before any parsing (a response is a few kilobytes). */
export const maxSamlResponseBytes = 256 * 1024;

function samlOf(sp: SamlServiceProvider, idp: SamlIdentityProvider, requestId: string, cache?: CacheProvider): SAML {
  const config: SamlConfig = {
    callbackUrl: sp.acsUrl,
    entryPoint: idp.ssoUrl,
    issuer: sp.entityId,
    audience: sp.entityId,
    idpIssuer: idp.entityId,
    idpCert: idp.certificates,
    // Profiles §4.1.4.3 / §4.1.4.5: the assertion itself must be signed; a signed Response
    // around an unsigned assertion is refused too (one rule, whatever the IdP signs besides).
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    // Core §3.2.2: InResponseTo must name this flow's AuthnRequest; unsolicited responses are refused (login CSRF).
    validateInResponseTo: ValidateInResponseTo.always,
    // The time checks are made below against the service's clock (one clock for every decision).
    acceptedClockSkewMs: -1,
    identifierFormat: nameIdFormatUnspecified,
    disableRequestedAuthnContext: true,
    generateUniqueId: () => requestId,
    ...(cache ? { cacheProvider: cache } : {}),
  };
  return new SAML(config);
}

/** SP metadata (SAML 2.0 Metadata §2.4.4): what an organization's admin gives their IdP. */
export function samlMetadataXml(sp: SamlServiceProvider): string {
  const saml = new SAML({
    callbackUrl: sp.acsUrl,
    issuer: sp.entityId,
    // Required by the constructor, never used for metadata (the SP signs nothing and decrypts nothing).
    idpCert: 'unused',
    wantAssertionsSigned: true,
    identifierFormat: nameIdFormatUnspecified,
  });
  return saml.generateServiceProviderMetadata(null, null);
}

/** The IdP's SSO URL carrying a deflated AuthnRequest and the RelayState (Bindings §3.4, HTTP-Redirect). */
export async function samlAuthnRequestUrl(
  sp: SamlServiceProvider,
  idp: SamlIdentityProvider,
  flow: { requestId: string; relayState: string },
): Promise<string> {
  // A cache that keeps nothing: the request ID lives (sealed) in the flow's state row.
  const cache: CacheProvider = {
    saveAsync: async (_key, value) => ({ value, createdAt: Date.now() }),
    getAsync: async () => null,
    removeAsync: async () => null,
  };
  return samlOf(sp, idp, flow.requestId, cache).getAuthorizeUrlAsync(flow.relayState, undefined, {});
}

/** The verified outcome of a Response: who signed in, and the assertion to enter in the replay cache. */
export interface SamlAssertion {
  profile: OAuthProfile;
  nameIdFormat: string | null;
  assertionId: string;
  /** When the replay-cache row may go. */
  expiresAt: Date;
}

/**
 * Validates a base64 SAMLResponse for the flow whose AuthnRequest had `requestId`. Throws
 * SSO_RESPONSE_INVALID with the reason of the first check that failed.
 */
export async function validateSamlResponse(
  sp: SamlServiceProvider,
  idp: SamlIdentityProvider,
  input: { samlResponse: string; requestId: string; now: Date },
): Promise<SamlAssertion> {
  const xml = decode(input.samlResponse);
  checkEnvelope(xml, sp, idp);

  // The one request ID this flow knows; node-saml's own expiry check runs on the real clock,
  // so it is told "just now" (the flow's state carries the real 10-minute limit).
  const cache: CacheProvider = {
    saveAsync: async (_key, value) => ({ value, createdAt: Date.now() }),
    getAsync: async (key) => (key === input.requestId ? new Date().toISOString() : null),
    removeAsync: async () => null,
  };
  let profile: Profile | null;
  try {
    ({ profile } = await samlOf(sp, idp, input.requestId, cache).validatePostResponseAsync({ SAMLResponse: input.samlResponse }));
  } catch (error) {
    throw samlFailure(reasonOf(error), error);
  }
  const assertion = profile?.getAssertion?.().Assertion as XmlNode | undefined;
  if (!profile || !assertion) throw samlFailure('malformed');
  return checkAssertion(sp, idp, input, profile, assertion);
}

function decode(samlResponse: string): string {
  if (samlResponse.length > Math.ceil((maxSamlResponseBytes * 4) / 3) + 4) throw samlFailure('malformed');
  if (!/^[A-Za-z0-9+/=\r\n]+$/.test(samlResponse)) throw samlFailure('malformed');
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  // OWASP XXE Prevention: no document type at all, so no entity can be declared or expanded.
  if (xml.length === 0 || /<!DOCTYPE|<!ENTITY/i.test(xml)) throw samlFailure('malformed');
  return xml;
}

/**
 * The unsigned envelope, read only to refuse: Core §3.2.2.2 Status must be Success; Core §3.2.2
 * and Bindings §3.5.5.2 Destination, when present (required when the Response is signed), must
 * be the ACS; Profiles §4.1.4.2 a Response Issuer, when present, must be the IdP's; this
 * version refuses EncryptedAssertion (no SP decryption key is configured).
 */
function checkEnvelope(xml: string, sp: SamlServiceProvider, idp: SamlIdentityProvider): void {
  let root: Element | null;
  try {
    const errors: string[] = [];
    const doc = new DOMParser({
      locator: {},
      errorHandler: { warning: () => {}, error: (message) => errors.push(message), fatalError: (message) => errors.push(message) },
    }).parseFromString(xml, 'text/xml');
    root = errors.length === 0 ? doc.documentElement : null;
  } catch {
    root = null;
  }
  if (root?.localName !== 'Response' || root.namespaceURI !== protocolNamespace) throw samlFailure('malformed');
  const children = Array.from(root.childNodes).filter((node): node is Element => node.nodeType === 1);
  const child = (namespace: string, name: string) => children.filter((node) => node.namespaceURI === namespace && node.localName === name);

  if (child(assertionNamespace, 'EncryptedAssertion').length > 0) throw samlFailure('encrypted');
  // Every signature anywhere in the document, signed or wrapped: SHA-2 with RSA or ECDSA, or nothing passes.
  const algorithmsOf = (name: string) =>
    Array.from(root.getElementsByTagNameNS(signatureNamespace, name)).map((node) => node.getAttribute('Algorithm') ?? '');
  if (
    !algorithmsOf('SignatureMethod').every((algorithm) => acceptedSignatureMethods.has(algorithm)) ||
    !algorithmsOf('DigestMethod').every((algorithm) => acceptedDigestMethods.has(algorithm))
  ) {
    throw samlFailure('weak_algorithm');
  }
  const statusCodes = child(protocolNamespace, 'Status').flatMap((status) =>
    Array.from(status.childNodes).filter((node): node is Element => node.nodeType === 1 && (node as Element).localName === 'StatusCode'),
  );
  if (statusCodes.length !== 1 || statusCodes[0]?.getAttribute('Value') !== statusSuccess) throw samlFailure('status');
  const issuers = child(assertionNamespace, 'Issuer');
  if (issuers.length > 1 || (issuers[0] && issuers[0].textContent?.trim() !== idp.entityId)) throw samlFailure('issuer');
  const destination = root.getAttribute('Destination');
  const signed = child(signatureNamespace, 'Signature').length > 0;
  if ((destination !== null && destination !== '' && destination !== sp.acsUrl) || (signed && !destination)) {
    throw samlFailure('destination');
  }
}

/** node-saml's refusals, by what they are about (its messages; anything else is malformed). */
function reasonOf(error: unknown): SamlFailureReason {
  if (error instanceof SamlStatusError) return 'status';
  const message = error instanceof Error ? error.message : '';
  if (/InResponseTo/i.test(message)) return 'in_response_to';
  if (/signature/i.test(message)) return 'signature';
  if (/audience/i.test(message)) return 'audience';
  if (/decrypt|EncryptedAssertion/i.test(message)) return 'encrypted';
  if (/issuer/i.test(message)) return 'issuer';
  if (/expired|not yet valid/i.test(message)) return 'expired';
  return 'malformed';
}

/** xml2js's shape of the verified assertion: attributes under `$`, text under `_`, children in arrays. */
type XmlNode = { $?: Record<string, string>; _?: string } & { [child: string]: unknown };

function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

function instant(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw samlFailure('malformed');
  return ms;
}

function checkAssertion(
  sp: SamlServiceProvider,
  idp: SamlIdentityProvider,
  input: { requestId: string; now: Date },
  profile: Profile,
  assertion: XmlNode,
): SamlAssertion {
  const now = input.now.getTime();
  const skew = samlClockSkewInSeconds * 1000;
  // Core §2.2.5 / Profiles §4.1.4.2: the assertion's Issuer is the IdP's entity ID.
  if (children(assertion, 'Issuer')[0]?._?.trim() !== idp.entityId) throw samlFailure('issuer');
  const assertionId = assertion.$?.ID;
  if (!assertionId || assertionId.length > 256) throw samlFailure('malformed');
  // Profiles §4.1.4.2: a bearer assertion carries an AuthnStatement.
  if (children(assertion, 'AuthnStatement').length === 0) throw samlFailure('malformed');

  // Core §2.5.1.2: NotBefore ≤ now < NotOnOrAfter, within the skew.
  const conditions = children(assertion, 'Conditions');
  if (conditions.length !== 1) throw samlFailure('malformed');
  const notBefore = instant(conditions[0]?.$?.NotBefore);
  const conditionsNotOnOrAfter = instant(conditions[0]?.$?.NotOnOrAfter);
  if ((notBefore !== null && now + skew < notBefore) || (conditionsNotOnOrAfter !== null && now - skew >= conditionsNotOnOrAfter)) {
    throw samlFailure('expired');
  }

  // Profiles §4.1.4.2–4.1.4.3: at least one bearer SubjectConfirmation whose data names the ACS
  // as Recipient, has a NotOnOrAfter still ahead, and answers this flow's AuthnRequest.
  const subject = children(assertion, 'Subject')[0];
  let failed: SamlFailureReason = 'recipient';
  let confirmedUntil: number | null = null;
  for (const confirmation of children(subject, 'SubjectConfirmation')) {
    if (confirmation.$?.Method !== bearerMethod) continue;
    const data = children(confirmation, 'SubjectConfirmationData')[0]?.$ ?? {};
    const until = instant(data.NotOnOrAfter);
    const from = instant(data.NotBefore);
    if (data.Recipient !== sp.acsUrl) failed = 'recipient';
    else if (until === null || now - skew >= until || (from !== null && now + skew < from)) failed = 'expired';
    else if (data.InResponseTo !== input.requestId) failed = 'in_response_to';
    else {
      confirmedUntil = until;
      break;
    }
  }
  if (confirmedUntil === null) throw samlFailure(failed);

  const result = samlProfileOf(profile, idp.emailAttribute);
  if (!result) throw samlFailure('malformed');
  const lastValid = Math.max(confirmedUntil, conditionsNotOnOrAfter ?? confirmedUntil) + skew;
  const expiresAt = new Date(Math.min(lastValid, addSeconds(input.now, maxAssertionLifetimeInSeconds).getTime()));
  return { ...result, assertionId, expiresAt };
}
