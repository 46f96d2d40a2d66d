/**
 * SCIM's error response (RFC 7644 §3.12): `schemas`, the HTTP `status` as a string, an
 * optional `scimType` from the RFC's table, and a `detail` for people. A refusal changes
 * nothing; its detail names what was wrong with the request, never anything internal (OWASP
 * ASVS 4.0 V7.4.1).
 */
export const scimErrorSchema = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12, Table 9. */
export type ScimErrorType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimErrorType | undefined;

  constructor(status: number, detail: string, scimType?: ScimErrorType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }
}

export interface ScimErrorBody {
  schemas: [typeof scimErrorSchema];
  status: string;
  scimType?: ScimErrorType;
  detail: string;
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimErrorType): ScimErrorBody {
  return { schemas: [scimErrorSchema], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

/** A 400 with `scimType` (the usual refusal of a body, a filter or a path). */
export const badRequest = (scimType: ScimErrorType, detail: string) => new ScimError(400, detail, scimType);
export const notFound = (what: 'User' | 'Group') => new ScimError(404, `${what} not found.`);
