import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import type { TestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';

export const scimContentType = 'application/scim+json';
export const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const groupSchema = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const patchOpSchema = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const errorSchema = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A domain of one test, never a free-mail or disposable one. */
export function uniqueDomain(prefix = 'scim'): string {
  return `${prefix}${randomBytes(4).toString('hex')}.com`;
}

export async function rows(t: TestServer, query: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [result] = await t.sql.query<RowDataPacket[]>(query, params);
  return result;
}

export interface ScimOrganization {
  owner: Awaited<ReturnType<TestServer['signUp']>>;
  organizationId: string;
  domain: string;
  /** The SCIM bearer token, as `sso.scim.createToken` showed it. */
  token: string;
  tokenId: string;
  /** A raw HTTP call to `/scim/v2` with this organization's token (or `token: null` for none). */
  scim(
    method: string,
    path: string,
    body?: unknown,
    options?: { token?: string | null; contentType?: string; raw?: string },
  ): Promise<ScimAnswer>;
}

export interface ScimAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: SCIM documents are read field by field in the tests.
  body: any;
}

/** A raw request as an identity provider sends it: `Authorization: Bearer`, `application/scim+json`. */
export async function scimRequest(
  t: TestServer,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; contentType?: string; raw?: string } = {},
): Promise<ScimAnswer> {
  const headers: Record<string, string> = { Accept: scimContentType };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['Content-Type'] = options.contentType ?? `${scimContentType}; charset=utf-8`;
  const response = await fetch(`${t.url}/scim/v2${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** An owner at a fresh domain, their organization with the domain verified through the DNS peer, and a SCIM token. */
export async function scimOrganization(t: TestServer, domain = uniqueDomain()): Promise<ScimOrganization> {
  const owner = await t.signUp({ email: `owner.${randomBytes(3).toString('hex')}@${domain}` });
  const { organization } = await owner.api.org.create.mutate({ name: 'Initech' });
  const added = await owner.api.sso.domains.add.mutate({ organizationId: organization.id, domain });
  t.dns.set(added.txtName, { txt: [added.txtValue] });
  await owner.api.sso.domains.verify.mutate({ organizationId: organization.id, domain });
  const stepUpToken = await stepUpByMail(t, owner, 'org_sso');
  const { token, tokenInfo } = await owner.api.sso.scim.createToken.mutate({ organizationId: organization.id, name: 'Okta', stepUpToken });
  return {
    owner,
    organizationId: organization.id,
    domain,
    token,
    tokenId: tokenInfo.id,
    scim: (method, path, body, options = {}) =>
      scimRequest(t, method, path, { token: options.token === undefined ? token : options.token, body, ...options }),
  };
}

/** A User as Okta's provisioning sends it on creation. */
export function oktaUser(email: string, extra: Record<string, unknown> = {}) {
  const [given = 'Ada', family = 'Lovelace'] = email.split('@')[0]?.split('.') ?? [];
  return {
    schemas: [userSchema],
    userName: email,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: email, type: 'work' }],
    displayName: `${given} ${family}`,
    locale: 'en-US',
    externalId: `00u${randomBytes(6).toString('hex')}`,
    groups: [],
    password: 'ignored-by-the-service-1',
    active: true,
    ...extra,
  };
}

/** A User as Entra ID's provisioning sends it on creation (enterprise extension, string booleans elsewhere). */
export function entraUser(email: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [userSchema, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId: randomBytes(8).toString('hex'),
    userName: email,
    active: true,
    displayName: 'Grace Hopper',
    emails: [{ primary: true, type: 'work', value: email }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Grace Hopper', familyName: 'Hopper', givenName: 'Grace' },
    roles: [],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Engineering' },
    ...extra,
  };
}
