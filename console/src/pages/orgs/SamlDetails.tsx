import type { SamlConnection } from '../../api';
import { CopyValue } from '../../components/CopyValue';
import { formatDateTime } from '../../format';

const dayInMs = 86_400_000;
/** How long before a certificate's expiry the page starts saying so (a rollover takes the IdP's admins some days). */
const expiryWarningInDays = 30;

/** How a certificate's expiry reads now: its date, and a warning when it is past or near. */
function expiryOf(notAfter: Date, now = new Date()): { text: string; warn: boolean } {
  const days = Math.floor((notAfter.getTime() - now.getTime()) / dayInMs);
  if (days < 0) return { text: `Expired on ${formatDateTime(notAfter)}`, warn: true };
  if (days < expiryWarningInDays)
    return { text: `Expires on ${formatDateTime(notAfter)}, in ${days === 1 ? '1 day' : `${days} days`}`, warn: true };
  return { text: `Expires on ${formatDateTime(notAfter)}`, warn: false };
}

/**
 * A SAML 2.0 connection (docs/api.md, sso), read-only here: the identity provider's entity ID,
 * sign-in URL and signing certificates (SHA-256 fingerprints and expiry, to compare with what the
 * IdP shows), and what the IdP must be given: the service provider's entity ID, ACS URL and
 * metadata URL. It is configured through `sso.connections.create` and `update`.
 */
export function SamlDetails({ connection }: { connection: SamlConnection }) {
  return (
    <>
      <h3 id="connection-title" className="sso-subhead" tabIndex={-1}>
        SAML 2.0 connection
      </h3>
      <dl className="facts">
        <dt>IdP entity ID</dt>
        <dd>{connection.idpEntityId}</dd>
        <dt>IdP sign-in URL</dt>
        <dd>{connection.idpSsoUrl}</dd>
        <dt>Email attribute</dt>
        <dd>{connection.emailAttribute ?? 'The standard ones (email, mail…)'}</dd>
        <dt>Updated</dt>
        <dd>{formatDateTime(connection.updatedAt)}</dd>
      </dl>
      <h4 className="sso-subhead">Give your identity provider</h4>
      <dl className="facts">
        <dt>SP metadata URL</dt>
        <dd>
          <CopyValue value={connection.metadataUrl} label="Copy the SP metadata URL" />
        </dd>
        <dt>SP entity ID</dt>
        <dd>
          <CopyValue value={connection.spEntityId} label="Copy the SP entity ID" />
        </dd>
        <dt>ACS URL</dt>
        <dd>
          <CopyValue value={connection.acsUrl} label="Copy the ACS URL" />
        </dd>
      </dl>
      <h4 className="sso-subhead">Signing certificates</h4>
      <ul className="certificates">
        {connection.certificates.map((certificate) => {
          const expiry = expiryOf(certificate.notAfter);
          return (
            <li key={certificate.sha256Fingerprint}>
              <span className="wrap">{certificate.subject}</span>
              <br />
              <span className="muted">SHA-256 </span>
              <code className="fingerprint">{certificate.sha256Fingerprint}</code>
              <br />
              <span className={expiry.warn ? 'error' : 'muted'}>{expiry.text}</span>
            </li>
          );
        })}
      </ul>
      <p className="hint-after">A SAML connection is changed through the API (sso.connections.update); this page shows it.</p>
    </>
  );
}
