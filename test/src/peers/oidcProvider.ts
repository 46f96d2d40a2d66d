import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createCookieJar } from '@iam/client';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';

/** An account at the provider, as its claims say. */
export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/**
 * - `ok`: the provider answers;
 * - `reset`: every connection is cut before an answer (a provider that is down);
 * - `error`: 503 with an HTML page;
 * - `garbage`: 200 with something that is not JSON;
 * - `hang`: the request is read and never answered;
 * - `foreignKeys`: the JWKS publishes another key under the signing key's `kid`, so ID tokens do not verify.
 * Only the provider's back channel is affected (discovery, keys, token, userinfo); the pages
 * the browser visits keep working.
 */
export type ProviderMode = 'ok' | 'reset' | 'error' | 'garbage' | 'hang' | 'foreignKeys';

export interface OidcProviderPeer extends AsyncDisposable {
  /** The issuer identifier, e.g. `http://127.0.0.1:41234`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The accounts people sign in as, by id (the `sub`). */
  accounts: Map<string, ProviderAccount>;
  /** Registers the client's redirect URIs (exact match, RFC 9700 §2.1); call before the first flow. */
  setRedirectUris(uris: string[]): void;
  setMode(mode: ProviderMode): void;
  /**
   * Plays the browser at the provider: opens the authorization URL, signs in as the account,
   * grants consent, and returns the redirect back to the client (with `code`, `state`, `iss`),
   * which it does not follow.
   */
  authorize(authorizationUrl: string, accountId: string): Promise<URL>;
  /** Every request the provider's back channel received (method and path). */
  backChannel: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

/**
 * A real OpenID Provider (the certified `oidc-provider` package) on 127.0.0.1 and a free
 * port, with one confidential client (PKCE required, `client_secret_basic`), an in-memory
 * account store the test controls, and a minimal interaction handler (login, then consent)
 * driven over HTTP by `authorize`.
 */
export async function startOidcProvider(options: { clientId?: string; clientSecret?: string } = {}): Promise<OidcProviderPeer> {
  const clientId = options.clientId ?? 'iam-test-client';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const accounts = new Map<string, ProviderAccount>();
  const backChannel: Array<{ method: string; path: string }> = [];
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const foreignJwks = { keys: [{ ...(await exportJWK(foreign.publicKey)), kid: 'test-key', use: 'sig', alg: 'RS256' }] };
  let mode: ProviderMode = 'ok';
  let provider: Provider | null = null;
  let redirectUris: string[] = [];

  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function build(): Provider {
    const configuration: Configuration = {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          response_types: ['code'],
          grant_types: ['authorization_code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      // RFC 7636 / RFC 9700 §2.1.1: every authorization request must carry an S256 challenge.
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      async findAccount(_ctx, sub) {
        const account = accounts.get(sub);
        if (!account) return undefined;
        return { accountId: sub, claims: async () => ({ sub, ...account }) };
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      jwks: { keys: [signingKey] },
      adapter: createMemoryAdapter(),
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    };
    const built = new Provider(issuer, configuration);
    // Errors of the protocol (bad grants, PKCE mismatches) are answers, not crashes.
    built.on('server_error', () => undefined);
    return built;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', issuer).pathname;
    const browserFacing = path.startsWith('/interaction/') || path.startsWith('/auth');
    if (!browserFacing) {
      backChannel.push({ method: request.method ?? 'GET', path });
      if (mode === 'reset') {
        request.socket.destroy();
        return;
      }
      if (mode === 'hang') return;
      if (mode === 'error') {
        response.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>Service Unavailable</body></html>');
        return;
      }
      if (mode === 'foreignKeys' && path === '/jwks') {
        response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(foreignJwks));
        return;
      }
      if (mode === 'garbage') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"this is": not json');
        return;
      }
    }
    provider ??= build();
    if (path.startsWith('/interaction/')) {
      await interaction(provider, request, response);
      return;
    }
    provider.callback()(request, response);
  }

  /** Login (any known account id), then consent to what the client asked for. */
  async function interaction(op: Provider, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const details = await op.interactionDetails(request, response);
    if (request.method !== 'POST') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<form method="post"><input name="login"><button>${details.prompt.name}</button></form>`);
      return;
    }
    const body = new URLSearchParams(await readBody(request));
    if (details.prompt.name === 'login') {
      const accountId = body.get('login') ?? '';
      if (!accounts.has(accountId)) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('unknown account');
        return;
      }
      await op.interactionFinished(request, response, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = details.grantId
      ? await op.Grant.find(details.grantId)
      : new op.Grant({ accountId: details.session?.accountId ?? '', clientId: String(details.params.client_id) });
    if (!grant) throw new Error('grant not found');
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await op.interactionFinished(request, response, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async function authorize(authorizationUrl: string, accountId: string): Promise<URL> {
    const jar = createCookieJar();
    let next = new URL(authorizationUrl);
    let method: 'GET' | 'POST' = 'GET';
    for (let hop = 0; hop < 20; hop++) {
      const onProvider = next.origin === issuer;
      if (!onProvider) return next;
      const isInteraction = next.pathname.startsWith('/interaction/');
      method = isInteraction ? 'POST' : 'GET';
      const response = await fetch(next, {
        method,
        redirect: 'manual',
        headers: {
          cookie: jar.header(),
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { body: new URLSearchParams({ login: accountId }).toString() } : {}),
      });
      jar.store(response);
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location) throw new Error(`the provider answered ${response.status} at ${next.pathname} without a redirect`);
      next = new URL(location, next);
    }
    throw new Error('too many redirects at the provider');
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve, reject) => {
      for (const socket of sockets) socket.destroy();
      server.close((error) => (error ? reject(error) : resolve()));
    });
    return closed;
  };

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    backChannel,
    setRedirectUris(uris) {
      redirectUris = uris;
      provider = null;
    },
    setMode(next) {
      mode = next;
    },
    authorize,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

/** The provider's storage for one peer: codes, sessions, grants and interactions in a map. */
function createMemoryAdapter(): (name: string) => Adapter {
  const rows = new Map<string, { payload: AdapterPayload; expiresAtInMs: number | null }>();
  return (name) => {
    const key = (id: string) => `${name}:${id}`;
    const live = (id: string) => {
      const row = rows.get(key(id));
      if (!row) return undefined;
      if (row.expiresAtInMs !== null && row.expiresAtInMs <= Date.now()) {
        rows.delete(key(id));
        return undefined;
      }
      return row;
    };
    const findBy = (field: 'uid' | 'userCode', value: string) => {
      for (const [rowKey, row] of rows) {
        if (rowKey.startsWith(`${name}:`) && row.payload[field] === value) return live(rowKey.slice(name.length + 1))?.payload;
      }
      return undefined;
    };
    return {
      async upsert(id, payload, expiresIn) {
        rows.set(key(id), { payload, expiresAtInMs: expiresIn ? Date.now() + expiresIn * 1000 : null });
      },
      async find(id) {
        return live(id)?.payload;
      },
      async findByUid(uid) {
        return findBy('uid', uid);
      },
      async findByUserCode(userCode) {
        return findBy('userCode', userCode);
      },
      async consume(id) {
        const row = live(id);
        if (row) row.payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        rows.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const [rowKey, row] of rows) if (row.payload.grantId === grantId) rows.delete(rowKey);
      },
    };
  };
}
