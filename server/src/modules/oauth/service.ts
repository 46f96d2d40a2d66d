import { lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../../db/client';
import { oauthLinkTokens, oauthStates } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import type { ParsedOAuthConfig } from './config';
import { createOAuthRegistry, type OAuthRegistry } from './registry';

/** Social sign-in as configured: the providers, the `returnTo` allowlist and the clean-up of old flows. */
export interface OAuthService {
  registry: OAuthRegistry;
  returnToAllowlist: readonly string[];
  /** Where the GET callback route sends the browser when the flow named no `returnTo`. */
  defaultReturnTo: string | null;
  /** Deletes flows and link tokens that expired more than an hour ago. */
  sweep(): Promise<void>;
}

export function createOAuthService(deps: {
  db: Database;
  clock: Clock;
  logger: Pick<Logger, 'warn'>;
  publicUrl: string;
  /** Checked by `parseOAuthConfig` (library mode gets the same checks as IAM_CONFIG_FILE). */
  config: ParsedOAuthConfig;
}): OAuthService {
  const { config } = deps;
  return {
    registry: createOAuthRegistry({
      providers: config.providers,
      publicUrl: deps.publicUrl,
      timeoutInMs: config.providerTimeoutInMs,
      logger: deps.logger,
    }),
    returnToAllowlist: config.returnToAllowlist ?? [],
    defaultReturnTo: config.defaultReturnTo ?? null,
    async sweep() {
      const before = addSeconds(deps.clock.now(), -3600);
      await deps.db.delete(oauthStates).where(lt(oauthStates.expiresAt, before));
      await deps.db.delete(oauthLinkTokens).where(lt(oauthLinkTokens.expiresAt, before));
    },
  };
}
