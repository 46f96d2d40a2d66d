import mysql from 'mysql2/promise';
import type { Logger } from 'pino';

/** Errors of a database that is not up yet (or not reachable yet): worth another attempt. */
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);

const firstDelayInMs = 500;
const maxDelayInMs = 5_000;

/** The database a URL points at, as it may be logged: host, port and name, never the user or password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '3306'}${parsed.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

/** The system or server code of a connection error (mysql2 wraps some in an AggregateError). */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const inner = (error as { errors?: unknown[] } | undefined)?.errors?.[0];
  return inner === undefined ? undefined : codeOf(inner);
}

/**
 * Waits until the database answers a ping: a database that is still starting (a container
 * started with the service, a failover) is retried every 0.5 s, doubling to 5 s, for at most
 * `timeoutInSeconds`, with one log line per failed attempt. An error retrying cannot fix (wrong
 * password, unknown database) or the time running out throws a message fit for an operator.
 */
export async function waitForDatabase(
  url: string,
  options: { timeoutInSeconds: number; logger: Logger; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const database = describeDatabaseUrl(url);
  const deadline = Date.now() + options.timeoutInSeconds * 1_000;
  let delayInMs = firstDelayInMs;
  for (let attempt = 1; ; attempt++) {
    const remainingInMs = deadline - Date.now();
    try {
      const connection = await mysql.createConnection({ uri: url, connectTimeout: Math.max(1_000, Math.min(10_000, remainingInMs)) });
      try {
        await connection.ping();
      } finally {
        await connection.end().catch(() => {});
      }
      if (attempt > 1) options.logger.info({ database, attempt }, 'database reachable');
      return;
    } catch (error) {
      const code = codeOf(error) ?? 'UNKNOWN';
      if (!transientCodes.has(code)) {
        throw new Error(`The database ${database} refused the connection (${code}): ${(error as Error).message}. Check DATABASE_URL.`);
      }
      const waitInMs = Math.min(delayInMs, deadline - Date.now());
      if (waitInMs <= 0) {
        throw new Error(
          `The database ${database} was not reachable within ${options.timeoutInSeconds} s (${attempt} attempts, last ${code}). ` +
            'Check that it is up and that DATABASE_URL points at it (DATABASE_CONNECT_TIMEOUT_SECONDS sets how long to wait).',
        );
      }
      // `errorCode`: the logger redacts top-level `code` fields (verification codes).
      options.logger.warn({ database, attempt, errorCode: code, retryInMs: waitInMs }, 'database not reachable yet; retrying');
      await sleep(waitInMs);
      delayInMs = Math.min(delayInMs * 2, maxDelayInMs);
    }
  }
}
