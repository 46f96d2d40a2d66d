import { X509Certificate } from 'node:crypto';
import { IamError } from '../errors/iamError';

/**
 * A SAML IdP's signing certificates (SAML 2.0 Metadata §2.4.1.1, `KeyDescriptor use="signing"`):
 * given as PEM or bare base64 DER, parsed as X.509 by node:crypto and kept as PEM, several at
 * once so a rotation never breaks sign-in. Only public material: nothing here is secret.
 */

export interface CertificateView {
  /** SHA-256 of the DER, upper-case hex pairs separated by colons (as `openssl x509 -fingerprint -sha256`). */
  sha256Fingerprint: string;
  subject: string;
  notAfter: Date;
}

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function toPem(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('-----BEGIN CERTIFICATE-----')) return trimmed;
  const body = trimmed.replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----`;
}

function parse(value: string): X509Certificate | null {
  try {
    return new X509Certificate(toPem(value));
  } catch {
    return null;
  }
}

/** Parses the certificates of `sso.connections.create`/`update`; INVALID_INPUT naming the first that is not an X.509 certificate. */
export function parseCertificates(values: readonly string[]): string {
  const pems = values.map((value, index) => {
    const certificate = parse(value);
    if (!certificate) throw new IamError('INVALID_INPUT', { message: `idpCertificates[${index}] is not an X.509 certificate.` });
    return certificate.toString().trim();
  });
  return pems.join('\n');
}

/** The stored certificates, one PEM each (what node-saml verifies signatures with). */
export function certificatesOf(stored: string | null): string[] {
  return stored?.match(pemBlock) ?? [];
}

export function certificateViews(stored: string | null): CertificateView[] {
  return certificatesOf(stored).flatMap((pem) => {
    const certificate = parse(pem);
    if (!certificate) return [];
    return [{ sha256Fingerprint: certificate.fingerprint256, subject: certificate.subject, notAfter: new Date(certificate.validTo) }];
  });
}
