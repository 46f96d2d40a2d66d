import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { providerIdOf } from '../oauth/connections';
import { connectionOf } from '../sso/connections';
import { organizationOfEmail } from '../sso/domains';
import { beginOAuth } from './oauthFlow';
import { beginSaml, samlConnectionOf } from './samlFlow';
import type { Services } from './services';

/**
 * `sso.authorize`: starts the organization's flow. OpenID Connect exactly as `oauth.authorize`
 * does (state bound to the browser, PKCE S256, nonce, the returnTo allowlist; RFC 9700 §2.1);
 * SAML with an AuthnRequest over HTTP-Redirect and the state as RelayState (samlFlow). By
 * address: the organization that verified its domain. `SSO_NO_CONNECTION` when there is none,
 * or the organization has no usable connection.
 */
export async function beginSso(
  services: Services,
  input: { email: string; returnTo?: string | undefined } | { organizationId: string; returnTo?: string | undefined },
  client: ClientInfo,
): Promise<{ url: string; organizationId: string; connectionId: string }> {
  const organizationId = 'email' in input ? await organizationOfEmail(services.db, input.email) : input.organizationId;
  const connection = organizationId ? await connectionOf(services.db, organizationId) : null;
  if (!organizationId || !connection) throw new IamError('SSO_NO_CONNECTION');
  if (connection.type === 'saml') {
    const saml = samlConnectionOf(services, connection);
    if (!saml) throw new IamError('SSO_NO_CONNECTION');
    const { url } = await beginSaml(services, saml, { returnTo: input.returnTo }, client);
    return { url, organizationId, connectionId: connection.id };
  }
  const providerId = providerIdOf(connection.id);
  if (!(await services.oauth.registry.resolve(providerId))) throw new IamError('SSO_NO_CONNECTION');
  const { url } = await beginOAuth(services, { provider: providerId, returnTo: input.returnTo }, client);
  return { url, organizationId, connectionId: connection.id };
}
