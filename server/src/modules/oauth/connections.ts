import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { type SsoConnectionRow, ssoConnections } from '../../db/tables';
import { deriveKey, open, seal } from '../crypto/seal';
import { isLoopbackHost } from './config';
import { defineProvider, type ProviderDefinition } from './providers';

/**
 * Providers that are rows, not configuration: an organization's SSO connection
 * (`sso_connections`) signs in as provider `sso_<the random part of its ssc_ id>`, through the
 * same registry, flow and callback route as a configured provider. Its client secret is sealed
 * under a key derived from IAM_SECRET for this purpose alone, bound to the connection id
 * (OWASP ASVS 4.0 V6.4.1: secrets encrypted at rest, keys not stored with the data).
 */

const connectionPrefix = 'ssc_';
const providerPrefix = 'sso_';
const secretPurpose = 'sso-client-secret';
/** A connection's provider id: `sso_` and 26 lower-case base32 characters (within the provider id pattern's 32). */
const providerIdOfConnection = /^sso_([a-z0-9]{10,28})$/;

export function providerIdOf(connectionId: string): string {
  return `${providerPrefix}${connectionId.slice(connectionPrefix.length)}`;
}

/** The connection id behind a provider id, or null when the id is not a connection's. */
export function connectionIdOf(providerId: string): string | null {
  const match = providerIdOfConnection.exec(providerId);
  return match ? `${connectionPrefix}${match[1]}` : null;
}

export interface ConnectionSecrets {
  seal(connectionId: string, clientSecret: string): string;
  open(connectionId: string, sealed: string): string | null;
}

export function connectionSecrets(secret: string): ConnectionSecrets {
  const key = deriveKey(secret, secretPurpose);
  return {
    seal: (connectionId, clientSecret) => seal(key, clientSecret, `${secretPurpose}:${connectionId}`),
    open: (connectionId, sealed) => open(key, sealed, `${secretPurpose}:${connectionId}`),
  };
}

/** Where a connection's issuer may be plain HTTP: loopback hosts, outside production (as `allowInsecureHttp` of a configured provider). */
export function issuerAllowed(issuer: string, allowLoopbackHttp: boolean): boolean {
  const url = new URL(issuer);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(url.hostname);
}

/** An OpenID Connect connection row as the registry's provider; null for a SAML one, or when its secret no longer opens (IAM_SECRET changed). */
export function connectionProvider(
  row: SsoConnectionRow,
  deps: { secrets: ConnectionSecrets; publicUrl: string; allowLoopbackHttp: boolean; name: string },
): ProviderDefinition | null {
  if (row.type !== 'oidc' || row.clientId === null) return null;
  const clientSecret = row.clientSecretSealed === null ? null : deps.secrets.open(row.id, row.clientSecretSealed);
  if (row.clientSecretSealed !== null && clientSecret === null) return null;
  const insecure = new URL(row.issuer).protocol === 'http:';
  if (insecure && !issuerAllowed(row.issuer, deps.allowLoopbackHttp)) return null;
  return defineProvider(
    {
      type: 'oidc',
      id: providerIdOf(row.id),
      name: deps.name,
      issuer: row.issuer,
      clientId: row.clientId,
      ...(clientSecret === null ? {} : { clientSecret }),
      scopes: (row.scopes ?? '').split(' ').filter(Boolean),
      allowInsecureHttp: insecure,
    },
    deps.publicUrl,
  );
}

/** The row behind a provider id (one primary-key read), or null. */
export async function findConnection(db: Executor, connectionId: string): Promise<SsoConnectionRow | null> {
  const [row] = await db.select().from(ssoConnections).where(eq(ssoConnections.id, connectionId)).limit(1);
  return row ?? null;
}
