import { randomBytes } from 'node:crypto';
import type { IamClient } from '@iam/client';
import { createTestServer, type TestServer } from '../harness/server';
import { formOf, type PostedForm, type ResponseOptions, type SamlIdpPeer, type SamlPerson, startSamlIdp } from '../peers/samlIdp';
import { type SsoOrganization, uniqueDomain, verifiedOrganization } from './env';

export const returnTo = 'https://app.example.com/after-login';

export interface SamlEnv extends AsyncDisposable {
  t: TestServer;
  idp: SamlIdpPeer;
  close(): Promise<void>;
}

/** A service whose returnTo allowlist has the app, and a real SAML IdP on loopback. */
export async function createSamlEnv(options: Parameters<typeof createTestServer>[0] = {}): Promise<SamlEnv> {
  const idp = await startSamlIdp();
  let t: TestServer;
  try {
    t = await createTestServer({ ...options, oauth: { providers: [], returnToAllowlist: [returnTo], ...options.oauth } });
  } catch (error) {
    await idp.close();
    throw error;
  }
  const close = async () => {
    await t.close();
    await idp.close();
  };
  return { t, idp, close, [Symbol.asyncDispose]: close };
}

export interface SamlOrganization extends SsoOrganization {
  acsUrl: string;
  metadataUrl: string;
  spEntityId: string;
}

/** An owner at the domain, their organization, the domain verified, a SAML connection to the IdP, and the IdP told the SP metadata. */
export async function samlOrganization(env: SamlEnv, domain = uniqueDomain()): Promise<SamlOrganization> {
  const { t, idp } = env;
  const { owner, organization, stepUpToken } = await verifiedOrganization(t, domain);
  const { connection } = await owner.api.sso.connections.create.mutate({
    organizationId: organization.id,
    type: 'saml',
    idpEntityId: idp.entityId,
    idpSsoUrl: idp.ssoUrl,
    idpCertificates: [idp.certificate],
    stepUpToken,
  });
  if (connection.type !== 'saml') throw new Error('expected a SAML connection');
  const metadata = await fetch(connection.metadataUrl);
  idp.trust(await metadata.text());
  return {
    owner,
    organizationId: organization.id,
    domain,
    connectionId: connection.id,
    providerId: connection.providerId,
    acsUrl: connection.acsUrl,
    metadataUrl: connection.metadataUrl,
    spEntityId: connection.spEntityId,
  };
}

/** A browser starts the flow by address and signs in at the IdP, which answers its auto-posting form (not yet posted). */
export async function visitSamlIdp(env: SamlEnv, api: IamClient, email: string, person: SamlPerson, options?: ResponseOptions) {
  const started = await api.sso.authorize.mutate({ email, returnTo });
  env.idp.next(person, options);
  const page = await fetch(started.url);
  if (page.status !== 200) throw new Error(`the IdP refused the request: ${await page.text()}`);
  return { started, form: formOf(await page.text()) };
}

/** The IdP's form posted to the ACS as a cross-site POST does: no cookie goes with it. */
export function postForm(form: Pick<PostedForm, 'SAMLResponse' | 'RelayState'>, action: string): Promise<Response> {
  return fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState }).toString(),
  });
}

/** Where a 303 points. */
export function locationOf(response: Response): URL {
  return new URL(response.headers.get('location') ?? 'about:blank');
}

/** The whole browser round trip: the POST's 303, then the browser's own GET with its cookies; the final answer. */
export async function deliver(form: PostedForm, jar: { header(): string; store(response: Response): void }) {
  const posted = await postForm(form, form.action);
  if (posted.status !== 303) throw new Error(`the ACS answered ${posted.status}`);
  const next = locationOf(posted);
  if (!next.pathname.endsWith('/acs')) return { posted, final: posted, location: next };
  const final = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.store(final);
  return { posted, final, location: locationOf(final) };
}

export const emailAttribute = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';

export function person(email: string, extra: Partial<SamlPerson> = {}): SamlPerson {
  return {
    nameId: `emp-${randomBytes(4).toString('hex')}`,
    attributes: { [emailAttribute]: email, displayName: 'Ada Lovelace' },
    ...extra,
  };
}
