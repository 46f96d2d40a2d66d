import type { IamServer } from '@iam/server';
import { Validator } from '@seriousme/openapi-schema-validator';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  requestBody?: { required: boolean; content: { 'application/json': { schema: Record<string, unknown> } } };
  responses: Record<string, { 'x-iam-codes'?: string[]; content?: { 'application/json': { schema: unknown } } }>;
}

interface Document {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, { get?: Operation; post?: Operation }>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
}

/** The procedures a client without the TypeScript client drives, and how each is reached. */
const required: Array<[operationId: string, method: 'get' | 'post', path: string]> = [
  ['auth.signup', 'post', '/api/v1/auth/signup'],
  ['auth.verifyEmail', 'post', '/api/v1/auth/verifyEmail'],
  ['auth.login', 'post', '/api/v1/auth/login'],
  ['session.refresh', 'post', '/api/v1/session/refresh'],
  ['auth.logout', 'post', '/api/v1/auth/logout'],
  ['auth.me', 'get', '/api/v1/auth/me'],
  ['session.list', 'get', '/api/v1/session/list'],
  ['session.revoke', 'post', '/api/v1/session/revoke'],
  ['session.revokeAll', 'post', '/api/v1/session/revokeAll'],
  ['mfa.verify', 'post', '/api/v1/mfa/verify'],
  ['mfa.resend', 'post', '/api/v1/mfa/resend'],
  ['mfa.totp.begin', 'post', '/api/v1/mfa/totp/begin'],
  ['mfa.totp.confirm', 'post', '/api/v1/mfa/totp/confirm'],
  ['mfa.stepUp.begin', 'post', '/api/v1/mfa/stepUp/begin'],
  ['mfa.stepUp.verify', 'post', '/api/v1/mfa/stepUp/verify'],
  ['passkey.registrationOptions', 'post', '/api/v1/passkey/registrationOptions'],
  ['passkey.register', 'post', '/api/v1/passkey/register'],
  ['passkey.authenticationOptions', 'post', '/api/v1/passkey/authenticationOptions'],
  ['passkey.signIn', 'post', '/api/v1/passkey/signIn'],
  ['passkey.list', 'get', '/api/v1/passkey/list'],
  ['auth.requestSignIn', 'post', '/api/v1/auth/requestSignIn'],
  ['auth.signInWithCode', 'post', '/api/v1/auth/signInWithCode'],
  ['auth.changePassword', 'post', '/api/v1/auth/changePassword'],
  ['auth.updateProfile', 'post', '/api/v1/auth/updateProfile'],
  ['auth.requestEmailChange', 'post', '/api/v1/auth/requestEmailChange'],
  ['auth.exportData', 'get', '/api/v1/auth/exportData'],
  ['auth.deleteAccount', 'post', '/api/v1/auth/deleteAccount'],
];

async function documentOf(url: string): Promise<Document> {
  const response = await fetch(`${url}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as Document;
}

function operationsOf(document: Document): Operation[] {
  return Object.values(document.paths).flatMap((item) => [item.get, item.post].filter((operation) => operation !== undefined));
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document of every client procedure, under /api/v1', async () => {
    await using t = await createTestServer();
    const document = await documentOf(t.url);
    const validation = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(validation.errors).toBeUndefined();
    expect(validation.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: t.url }]);
    for (const [operationId, method, path] of required) {
      expect(document.paths[path]?.[method]?.operationId, `${method} ${path}`).toBe(operationId);
    }
    // Service-to-service and admin procedures stay on /trpc.
    expect(operationsOf(document).map((operation) => operation.operationId)).not.toContainEqual(expect.stringMatching(/^(bff|admin)\./));
    expect(new Set(operationsOf(document).map((operation) => operation.operationId)).size).toBe(operationsOf(document).length);
    // A procedure added to a client router is served here too, or this fails until it is.
    const record = t.iam.router._def.procedures as unknown as Record<string, unknown>;
    const clientProcedures = Object.keys(record).filter((path) => /^(auth|session|mfa|passkey|apiKeys)\./.test(path));
    expect(
      operationsOf(document)
        .map((operation) => operation.operationId)
        .sort(),
    ).toEqual(clientProcedures.sort());
  });

  it('describes inputs from the procedures’ own schemas, the error envelope, security and tags', async () => {
    await using t = await createTestServer();
    const document = await documentOf(t.url);
    const login = document.paths['/api/v1/auth/login']?.post;
    expect(login?.requestBody).toEqual({
      required: true,
      content: {
        'application/json': {
          schema: expect.objectContaining({
            type: 'object',
            required: ['email', 'password'],
            additionalProperties: false,
            properties: expect.objectContaining({ email: expect.objectContaining({ type: 'string', maxLength: 254 }) }),
          }),
        },
      },
    });
    expect(login?.tags).toEqual(['auth']);
    expect(login?.security).toEqual([]);
    expect(login?.responses['200']?.content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/SignInResult' });
    expect(login?.responses['401']?.['x-iam-codes']).toEqual(['INVALID_CREDENTIALS']);
    expect(login?.responses['429']?.['x-iam-codes']).toEqual(expect.arrayContaining(['RATE_LIMITED', 'IP_BLOCKED']));
    expect(login?.responses['400']?.content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
    // An optional input is an optional body; a procedure without input has none.
    expect(document.paths['/api/v1/session/revokeAll']?.post?.requestBody?.required).toBe(false);
    expect(document.paths['/api/v1/session/refresh']?.post?.requestBody).toBeUndefined();
    expect(document.paths['/api/v1/session/refresh']?.post?.security).toEqual([{ refreshCookie: [] }]);
    expect(document.paths['/api/v1/auth/me']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/api/v1/auth/deleteAccount']?.post?.responses['403']?.['x-iam-codes']).toContain('STEP_UP_REQUIRED');
    expect(document.paths['/api/v1/mfa/totp/begin']?.post?.tags).toEqual(['mfa']);
    expect(document.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http' },
      refreshCookie: { type: 'apiKey', in: 'cookie', name: 'iam_rt' },
    });
    expect(document.components.schemas.ErrorEnvelope).toMatchObject({
      required: ['error'],
      properties: { error: { required: ['code', 'iamCode', 'message'] } },
    });
    for (const operation of operationsOf(document)) {
      expect(operation.summary.length, operation.operationId).toBeGreaterThan(0);
      expect(Object.keys(operation.responses), operation.operationId).toEqual(expect.arrayContaining(['200', '400', '500']));
    }
  });

  it('GET /docs renders every operation server-side, without scripts, under a strict CSP', async () => {
    await using t = await createTestServer();
    const document = await documentOf(t.url);
    const response = await fetch(`${t.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-eval/);
    const html = await response.text();
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/i);
    for (const [path, item] of Object.entries(document.paths)) {
      const operation = item.get ?? item.post;
      expect(html).toContain(`<code>${path}</code>`);
      expect(html).toContain(`id="${operation?.operationId}"`);
    }
    expect(html).toContain('<span class="method">POST</span> <code>/api/v1/auth/login</code>');
    expect(html).toContain('<code>INVALID_CREDENTIALS</code>');
    expect(html).toContain('<a href="/openapi.json">');
    expect(html).toContain('&#34;additionalProperties&#34;: false');
  });

  it('is served in library mode under the mount path, behind a host app that parses JSON itself', async () => {
    const host = (iam: IamServer) => express().use(express.json()).use('/auth', iam.app);
    await using t = await createTestServer({ basePath: '/auth', host });
    const document = await documentOf(`${t.url}/auth`);
    expect(document.servers).toEqual([{ url: `${t.url}/auth` }]);
    const me = await fetch(`${t.url}/auth/api/v1/auth/me`);
    expect(me.status).toBe(401);
    expect(((await me.json()) as { error: { iamCode: string } }).error.iamCode).toBe('UNAUTHENTICATED');
    // The host read the body first: the service takes what its JSON parser made.
    const login = await fetch(`${t.url}/auth/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'not the password' }),
    });
    expect(login.status).toBe(401);
    expect(((await login.json()) as { error: { iamCode: string } }).error.iamCode).toBe('INVALID_CREDENTIALS');
  });

  it('is not served with restApi: false, and /trpc is unaffected', async () => {
    await using t = await createTestServer({ restApi: false });
    for (const path of ['/openapi.json', '/docs', '/api/v1/auth/me']) {
      const response = await fetch(`${t.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { iamCode: string } }).error.iamCode).toBe('NOT_FOUND');
    }
    expect((await t.signUp()).accessToken).toEqual(expect.any(String));
  });
});
