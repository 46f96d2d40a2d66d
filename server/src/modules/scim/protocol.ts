/**
 * The SCIM protocol's fixed parts: schema URNs, limits, and the discovery documents of
 * RFC 7644 §4 (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`), which describe what
 * this service supports and nothing more.
 */
export const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const groupSchema = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const listResponseSchema = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const patchOpSchema = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const serviceProviderConfigSchema = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const resourceTypeSchema = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const schemaSchema = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** The most resources one list answers (`count` above it is lowered: RFC 7644 §3.4.2.4). */
export const maxResultsPerPage = 100;
/** The most operations one PATCH carries. */
export const maxPatchOperations = 100;
/** The most members one group holds (a group is read and written whole). */
export const maxGroupMembers = 1_000;

/** `meta` of a resource (RFC 7643 §3.1). */
export function metaOf(
  baseUrl: string,
  resourceType: 'User' | 'Group',
  row: { id: string; version: number; createdAt: Date; updatedAt: Date },
) {
  return {
    resourceType,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
    location: `${baseUrl}/${resourceType}s/${row.id}`,
    version: `W/"${row.version}"`,
  };
}

export function listResponse<T>(resources: T[], totalResults: number, startIndex: number) {
  return { schemas: [listResponseSchema], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** RFC 7643 §5: what the service supports. */
export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [serviceProviderConfigSchema],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: maxResultsPerPage },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A SCIM token of the organization (sso.scim.createToken), in Authorization: Bearer (RFC 6750).',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [resourceTypeSchema],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A member of the organization (its account is the address in userName).',
      schema: userSchema,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [resourceTypeSchema],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group of members; a mapped group gives its members an organization role.',
      schema: groupSchema,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

type Attribute = {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'default' | 'never';
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: Attribute[];
  referenceTypes?: string[];
};

const text = (name: string, description: string, extra: Partial<Attribute> = {}): Attribute => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  description,
  ...extra,
});

/** RFC 7643 §7: the attributes the service keeps; others are accepted and ignored. */
export function schemas(baseUrl: string) {
  return [
    {
      schemas: [schemaSchema],
      id: userSchema,
      name: 'User',
      description: 'A member of the organization.',
      attributes: [
        text('userName', "The account address; at one of the organization's verified domains. Case-insensitive.", {
          required: true,
          uniqueness: 'server',
        }),
        {
          ...text('name', "The member's name."),
          type: 'complex',
          subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((name) =>
            text(name, name),
          ),
        },
        text('displayName', 'The name shown for the member.'),
        text('nickName', 'A casual name.'),
        text('title', 'Title.'),
        text('preferredLanguage', 'Preferred language.'),
        text('locale', 'Locale.'),
        text('timezone', 'Time zone.'),
        { ...text('active', 'false: the member can no longer sign in, and every session ends.'), type: 'boolean' },
        {
          ...text('emails', 'Addresses as the provider sent them; the account address is userName.'),
          type: 'complex',
          multiValued: true,
          subAttributes: [
            text('value', 'The address.'),
            text('type', 'work, home or other.'),
            { ...text('primary', 'Primary.'), type: 'boolean' },
          ],
        },
      ],
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${userSchema}` },
    },
    {
      schemas: [schemaSchema],
      id: groupSchema,
      name: 'Group',
      description: 'A group of members.',
      attributes: [
        text('displayName', "The group's name; a mapped name gives its members a role (sso.scim.mapGroup).", {
          required: true,
          uniqueness: 'server',
        }),
        {
          ...text('members', "The group's members (User ids)."),
          type: 'complex',
          multiValued: true,
          subAttributes: [
            { ...text('value', 'The User id.', { mutability: 'immutable' }) },
            { ...text('$ref', 'The User location.', { mutability: 'immutable' }), type: 'reference', referenceTypes: ['User'] },
            text('display', "The member's name.", { mutability: 'readOnly' }),
          ],
        },
      ],
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${groupSchema}` },
    },
  ];
}
