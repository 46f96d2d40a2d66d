import { lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { oauthLinkTokens, oauthStates } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import type { ParsedOAuthConfig } from './config';
import { type ConnectionSecrets, connectionIdOf, connectionProvider, connectionSecrets, findConnection } from './connections';
import { createOAuthRegistry, type OAuthRegistry } from './registry';

/** Social sign-in as configured: the providers, the `returnTo` allowlist and the clean-up of old flows. */
export interface OAuthService {
  registry: OAuthRegistry;
  returnToAllowlist: readonly string[];
  /** Where the GET callback route sends the browser when the flow named no `returnTo`. */
  defaultReturnTo: string | null;
  /** Deletes flows and link tokens that expired more than an hour ago. */
  sweep(): Promise<void>;
  /** Enterprise SSO: how connection secrets are sealed, whether loopback issuers may be plain HTTP, and the resolvers domains are verified with. */
  sso: {
    secrets: ConnectionSecrets;
    allowLoopbackHttp: boolean;
    dnsServers: readonly string[] | undefined;
    /** PUBLIC_URL: a SAML connection's SP entity ID and ACS URL are under it. */
    publicUrl: string;
  };
}

export function createOAuthService(deps: {
  db: Database;
  clock: Clock;
  logger: Pick<Logger, 'warn'>;
  publicUrl: string;
  /** Checked by `parseOAuthConfig` (library mode gets the same checks as IAM_CONFIG_FILE). */
  config: ParsedOAuthConfig;
  /** IAM_SECRET: SSO connection secrets are sealed under a key derived from it. */
  secret: string;
  /** Outside production, an SSO connection's issuer may be plain HTTP on a loopback host (tests, local development). */
  allowLoopbackHttp: boolean;
  dnsServers?: readonly string[] | undefined;
}): OAuthService {
  const { config } = deps;
  const secrets = connectionSecrets(deps.secret);
  return {
    registry: createOAuthRegistry({
      providers: config.providers,
      publicUrl: deps.publicUrl,
      timeoutInMs: config.providerTimeoutInMs,
      logger: deps.logger,
      dynamic: {
        // A configured provider keeps its id: only ids no configured provider has reach here.
        handles: (id) => connectionIdOf(id) !== null,
        async load(id) {
          const connectionId = connectionIdOf(id);
          const row = connectionId ? await findConnection(deps.db, connectionId) : null;
          // A SAML connection is no OAuth provider: its flow is the SAML one (modules/auth/samlFlow).
          if (row?.type !== 'oidc') return null;
          const provider = connectionProvider(row, {
            secrets,
            publicUrl: deps.publicUrl,
            allowLoopbackHttp: deps.allowLoopbackHttp,
            name: 'Single sign-on',
          });
          if (!provider) {
            deps.logger.warn({ connectionId: row.id }, 'SSO connection unusable (its secret does not open, or its issuer is not allowed)');
            return null;
          }
          return { provider, version: row.updatedAt.getTime() };
        },
      },
    }),
    returnToAllowlist: config.returnToAllowlist ?? [],
    defaultReturnTo: config.defaultReturnTo ?? null,
    sso: { secrets, allowLoopbackHttp: deps.allowLoopbackHttp, dnsServers: deps.dnsServers, publicUrl: deps.publicUrl },
    async sweep() {
      const before = addSeconds(deps.clock.now(), -3600);
      await deps.db.delete(oauthStates).where(lt(oauthStates.expiresAt, before));
      await deps.db.delete(oauthLinkTokens).where(lt(oauthLinkTokens.expiresAt, before));
    },
  };
}
