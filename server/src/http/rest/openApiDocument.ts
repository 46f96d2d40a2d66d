import { httpStatusOf, type IamErrorCode, iamErrors } from '@iam/shared';
import { z } from 'zod';
import { appRouter } from '../../routers/root';
import { componentSchemas, type JsonSchema, schemaRef } from './openApiSchemas';
import { authErrorsOf, commonErrors, type RestAuth, type RestOperation, restOperations, restPathOf } from './restOperations';

/** What the service knows of a procedure: its kind and the zod schema of its input, if any. */
export interface ProcedureShape {
  type: 'query' | 'mutation';
  input: z.ZodType | null;
}

/**
 * The procedure at a dotted path. The router keeps a flat record of its procedures by path
 * (`auth.login`, `mfa.totp.begin`) next to the nested one, and each keeps its input parsers.
 */
export function procedureShapeOf(path: string): ProcedureShape {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string; inputs: unknown[] } } | undefined>;
  const def = procedures[path]?._def;
  if (!def || (def.type !== 'query' && def.type !== 'mutation')) throw new Error(`no query or mutation at ${path}`);
  if (def.inputs.length > 1) throw new Error(`${path}: one input schema expected`);
  const input = def.inputs[0];
  if (input !== undefined && !(input instanceof z.ZodType)) throw new Error(`${path}: the input is not a zod schema`);
  return { type: def.type, input: input ?? null };
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters?: JsonSchema[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiResponse {
  description: string;
  /** The catalog codes a refusal with this status may carry. */
  'x-iam-codes'?: IamErrorCode[];
  headers?: Record<string, JsonSchema>;
  content?: { 'application/json': { schema: JsonSchema } };
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: Array<{ url: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<'get' | 'post', OpenApiOperation>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

/** The zod input as JSON Schema 2020-12, the dialect OpenAPI 3.1 uses: what a caller may send. */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return json;
}

const tagDescriptions: Record<string, string> = {
  auth: 'Sign-up, sign-in (password and passwordless) and the account',
  session: 'Refresh, sessions and devices',
  mfa: 'Challenges, authenticator apps and step-up',
  passkey: 'Passkeys (WebAuthn)',
  apiKeys: "API keys for the user's own scripts",
};

const securityOf: Record<RestAuth, Array<Record<string, string[]>>> = {
  public: [],
  bearer: [{ bearerAuth: [] }],
  stepUp: [{ bearerAuth: [] }],
  refreshCookie: [{ refreshCookie: [] }],
  bearerOrCookie: [{ bearerAuth: [] }, { refreshCookie: [] }],
};

/** The OpenAPI 3.1 document of `/api/v1`, built from the procedures' own input schemas. */
export function createOpenApiDocument(options: { publicUrl: string; productName: string }): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const operation of restOperations) {
    const shape = procedureShapeOf(operation.procedure);
    paths[restPathOf(operation.procedure)] = { [shape.type === 'query' ? 'get' : 'post']: openApiOperationOf(operation, shape) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${options.productName} API`,
      version: '1.0.0',
      description:
        'The procedures of the service over plain HTTP and JSON, with the same rules, cookies and error codes as its tRPC API. ' +
        'Queries are `GET` without a body, mutations `POST` with a JSON body (`Content-Type: application/json`, at most 100 kB). ' +
        'A sign-in sets the `iam_rt` (HttpOnly refresh token) and `iam_iat` cookies; the first answer sets `iam_cid`, which names ' +
        'the device: keep all three. Over https their names carry the `__Host-` prefix. Dates are ISO 8601 strings.',
    },
    servers: [{ url: options.publicUrl }],
    tags: [...new Set(restOperations.map(tagOf))].map((name) => ({ name, description: tagDescriptions[name] ?? name })),
    paths,
    components: {
      schemas: componentSchemas,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token of a sign-in or refresh.' },
        refreshCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'iam_rt',
          description: 'The HttpOnly refresh-token cookie a sign-in sets (`__Host-iam_rt` over https).',
        },
      },
    },
  };
}

function openApiOperationOf(operation: RestOperation, shape: ProcedureShape): OpenApiOperation {
  const result: OpenApiOperation = {
    operationId: operation.procedure,
    summary: operation.summary,
    tags: [tagOf(operation)],
    security: securityOf[operation.auth],
    responses: responsesOf(operation),
  };
  if (shape.input && shape.type === 'mutation') {
    result.requestBody = {
      required: !shape.input.safeParse(undefined).success,
      content: { 'application/json': { schema: inputJsonSchema(shape.input) } },
    };
  } else if (shape.input) {
    result.parameters = [
      { name: 'input', in: 'query', required: false, content: { 'application/json': { schema: inputJsonSchema(shape.input) } } },
    ];
  }
  return result;
}

function responsesOf(operation: RestOperation): Record<string, OpenApiResponse> {
  const responses: Record<string, OpenApiResponse> = {
    '200': {
      description: 'The result.',
      content: { 'application/json': { schema: operation.result ? schemaRef(operation.result) : {} } },
    },
  };
  const codes = [...new Set([...operation.errors, ...authErrorsOf(operation.auth), ...commonErrors])];
  const byStatus = new Map<number, IamErrorCode[]>();
  for (const code of codes) byStatus.set(httpStatusOf(code), [...(byStatus.get(httpStatusOf(code)) ?? []), code]);
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: statusCodes.map((code) => `\`${code}\`: ${iamErrors[code].message}`).join(' '),
      'x-iam-codes': statusCodes,
      ...(status === 429 || status === 503
        ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } }
        : {}),
      content: { 'application/json': { schema: schemaRef('ErrorEnvelope') } },
    };
  }
  return responses;
}

/** The router a procedure belongs to: `mfa.totp.begin` → `mfa`. */
function tagOf(operation: RestOperation): string {
  return operation.procedure.split('.')[0] ?? operation.procedure;
}
