import { randomBytes } from 'node:crypto';
import type { IamClient } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { createTestServer, type TestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { type OidcProviderPeer, type ProviderAccount, startOidcProvider } from '../peers/oidcProvider';

/** A domain of one test, never a free-mail or disposable one. */
export function uniqueDomain(prefix = 'acme'): string {
  return `${prefix}${randomBytes(4).toString('hex')}.com`;
}

export interface SsoEnv extends AsyncDisposable {
  t: TestServer;
  idp: OidcProviderPeer;
  close(): Promise<void>;
}

/** A service, and a real OpenID Provider on loopback that organizations connect to. */
export async function createSsoEnv(options: Parameters<typeof createTestServer>[0] & { socialProvider?: boolean } = {}): Promise<SsoEnv> {
  const idp = await startOidcProvider();
  let t: TestServer;
  // `corp`: the same provider configured as a social sign-in provider of the service.
  const providers = options.socialProvider
    ? [
        {
          id: 'corp',
          type: 'oidc' as const,
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          allowInsecureHttp: true,
        },
      ]
    : [];
  try {
    t = await createTestServer({ ...options, oauth: { providers, providerTimeoutInMs: 2_000, ...options.oauth } });
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

export async function rows(t: TestServer, query: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [result] = await t.sql.query<RowDataPacket[]>(query, params);
  return result;
}

export interface SsoOrganization {
  owner: Awaited<ReturnType<TestServer['signUp']>>;
  organizationId: string;
  domain: string;
  connectionId: string;
  providerId: string;
}

/** An owner at the domain, their organization ("Acme"), the domain verified through the DNS peer, and a step-up for a connection. */
export async function verifiedOrganization(t: TestServer, domain: string) {
  const owner = await t.signUp({ email: `owner.${randomBytes(3).toString('hex')}@${domain}` });
  const { organization } = await owner.api.org.create.mutate({ name: 'Acme' });
  const added = await owner.api.sso.domains.add.mutate({ organizationId: organization.id, domain });
  t.dns.set(added.txtName, { txt: [added.txtValue] });
  await owner.api.sso.domains.verify.mutate({ organizationId: organization.id, domain });
  const stepUpToken = await stepUpByMail(t, owner, 'org_sso');
  return { owner, organization, stepUpToken };
}

/** An owner at the domain, their organization, the domain verified through the DNS peer and a connection to the provider. */
export async function ssoOrganization(env: SsoEnv, domain = uniqueDomain()): Promise<SsoOrganization> {
  const { t, idp } = env;
  const { owner, organization, stepUpToken } = await verifiedOrganization(t, domain);
  const { connection } = await owner.api.sso.connections.create.mutate({
    organizationId: organization.id,
    type: 'oidc',
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    stepUpToken,
  });
  idp.setRedirectUris([`${t.url}/oauth/callback/${connection.providerId}`, `${t.url}/oauth/callback/corp`]);
  return { owner, organizationId: organization.id, domain, connectionId: connection.id, providerId: connection.providerId };
}

/** A browser starts the organization's flow by address, signs in at the provider and comes back (not yet delivered). */
export async function visitIdp(env: SsoEnv, api: IamClient, email: string, account: ProviderAccount & { id?: string }) {
  const accountId = account.id ?? `person-${randomBytes(4).toString('hex')}`;
  env.idp.accounts.set(accountId, { email: account.email ?? email, email_verified: account.email_verified, name: account.name });
  const started = await api.sso.authorize.mutate({ email });
  const back = await env.idp.authorize(started.url, accountId);
  const code = back.searchParams.get('code');
  const state = back.searchParams.get('state');
  if (!code || !state) throw new Error(`the provider came back without a code: ${back.href}`);
  return { started, accountId, code, state, iss: back.searchParams.get('iss') ?? undefined };
}

type Claims = { sub: string; sid: string; org?: string; org_role?: string };
export function claimsOf(token: string): Claims {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
}
