import type { SsoConnectionRow } from '../../db/tables';
import { IamError } from '../errors/iamError';
import { issuerAllowed, providerIdOf } from '../oauth/connections';
import { samlServiceProviderOf } from './saml';
import { type CertificateView, certificateViews, parseCertificates } from './samlCertificates';

/**
 * The SAML side of `sso.connections.*` (docs/api.md): what a SAML connection's row holds, and
 * what its view answers — the IdP's entity ID, SSO URL and certificates (their fingerprints,
 * subjects and expiry, never needed back in full), and what to give the IdP (the SP entity ID,
 * the ACS and metadata URLs).
 */

export interface SamlConnectionView {
  id: string;
  organizationId: string;
  type: 'saml';
  idpEntityId: string;
  idpSsoUrl: string;
  certificates: CertificateView[];
  /** The attribute the address is read from; null: the standard ones (`email`, `mail`, …). */
  emailAttribute: string | null;
  spEntityId: string;
  acsUrl: string;
  metadataUrl: string;
  providerId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SamlConnectionInput {
  idpEntityId: string;
  idpSsoUrl: string;
  idpCertificates: readonly string[];
  emailAttribute?: string | null | undefined;
}

export function samlViewOf(row: SsoConnectionRow, publicUrl: string): SamlConnectionView {
  const providerId = providerIdOf(row.id);
  const sp = samlServiceProviderOf(publicUrl, providerId);
  return {
    id: row.id,
    organizationId: row.organizationId,
    type: 'saml',
    idpEntityId: row.issuer,
    idpSsoUrl: row.samlSsoUrl ?? '',
    certificates: certificateViews(row.samlCertificates),
    emailAttribute: row.samlEmailAttribute,
    spEntityId: sp.entityId,
    acsUrl: sp.acsUrl,
    metadataUrl: sp.metadataUrl,
    providerId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The IdP's SSO URL: https; plain http only to loopback outside production (as OIDC issuers; SAML Bindings §3.4.5.2 leaves transport security to TLS). */
export function checkSsoUrl(idpSsoUrl: string, allowLoopbackHttp: boolean): string {
  if (!issuerAllowed(idpSsoUrl, allowLoopbackHttp)) throw new IamError('INVALID_INPUT', { message: 'The idpSsoUrl must be an https URL.' });
  return idpSsoUrl;
}

/** The SAML columns of a row from `sso.connections.create`'s input (checked: URL, certificates). */
export function samlColumnsOf(input: SamlConnectionInput, allowLoopbackHttp: boolean) {
  return {
    issuer: input.idpEntityId,
    samlSsoUrl: checkSsoUrl(input.idpSsoUrl, allowLoopbackHttp),
    samlCertificates: parseCertificates(input.idpCertificates),
    samlEmailAttribute: input.emailAttribute ?? null,
  };
}
