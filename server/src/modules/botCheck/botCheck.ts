import type { BotCheckChallenge } from '@iam/shared';
import { createChallenge, extractParams, verifySolution } from 'altcha-lib/v1';
import { lt } from 'drizzle-orm';
import { type Database, isDuplicateKeyError } from '../../db/client';
import { botCheckSolutions } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { deriveKey } from '../crypto/seal';

/** The procedures a bot check can guard (`botCheck` in the config file). */
export const botCheckedProcedures = ['signup', 'login', 'requestPasswordReset', 'requestSignIn'] as const;
export type BotCheckedProcedure = (typeof botCheckedProcedures)[number];

/** `off`: never asked; `under_attack`: asked while the caller's IP or the address is under attack; `always`. */
export type BotCheckMode = 'off' | 'under_attack' | 'always';

export interface BotCheckConfig {
  modes: Record<BotCheckedProcedure, BotCheckMode>;
  /**
   * The work: the solver tries up to this many numbers (half of it on average). 50,000 takes
   * about half a second with Web Crypto (in a browser or in Node), and adds that much to every
   * call of a script that floods.
   */
  maxNumber: number;
}

export const defaultBotCheckConfig: BotCheckConfig = {
  modes: { signup: 'under_attack', login: 'under_attack', requestPasswordReset: 'under_attack', requestSignIn: 'under_attack' },
  maxNumber: 50_000,
};

export type BotCheckOverrides = { modes?: Partial<Record<BotCheckedProcedure, BotCheckMode>>; maxNumber?: number };

export function resolveBotCheckConfig(overrides: BotCheckOverrides | undefined): BotCheckConfig {
  return {
    modes: { ...defaultBotCheckConfig.modes, ...overrides?.modes },
    maxNumber: overrides?.maxNumber ?? defaultBotCheckConfig.maxNumber,
  };
}

/** A solution works for this long after its challenge was issued. */
const challengeTtlInSeconds = 5 * 60;

/**
 * Proof-of-work bot checks (ALTCHA, self-hosted: no third party sees the caller). A
 * challenge is HMAC-signed with a key derived from the service secret and carries its expiry
 * in the signed salt; a solution is redeemed once, across every instance, by inserting the
 * challenge's hash (OWASP ASVS 4.0 V11.1.4: anti-automation).
 */
export function createBotCheckService(deps: { db: Database; clock: Clock; secret: string; config: BotCheckConfig }) {
  const hmacKey = deriveKey(deps.secret, 'bot-check').toString('base64url');
  const { config } = deps;

  return {
    config,

    async issue(): Promise<BotCheckChallenge> {
      const challenge = await createChallenge({
        hmacKey,
        algorithm: 'SHA-256',
        maxnumber: config.maxNumber,
        expires: addSeconds(deps.clock.now(), challengeTtlInSeconds),
      });
      return {
        algorithm: 'SHA-256',
        challenge: challenge.challenge,
        salt: challenge.salt,
        maxnumber: challenge.maxnumber ?? config.maxNumber,
        signature: challenge.signature,
      };
    },

    /** Whether a solution is genuine, unexpired and not used before; redeeming it spends it. */
    async redeem(solution: string): Promise<boolean> {
      const payload = decodePayload(solution);
      if (!payload) return false;
      // The expiry is judged on the service's clock; the library checks the signature and the work.
      const expires = Number(extractParams(payload).expires);
      const now = deps.clock.now();
      if (!Number.isFinite(expires) || expires * 1000 <= now.getTime()) return false;
      if (!(await verifySolution(payload, hmacKey, false).catch(() => false))) return false;
      try {
        await deps.db
          .insert(botCheckSolutions)
          .values({ challengeHash: sha256Hex(`bot-check:${payload.challenge}`), expiresAt: new Date(expires * 1000) });
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    },

    /** Forgets redeemed solutions whose challenges have expired. */
    async sweep(): Promise<number> {
      const [result] = await deps.db.delete(botCheckSolutions).where(lt(botCheckSolutions.expiresAt, deps.clock.now()));
      return result.affectedRows;
    },
  };
}

export type BotCheckService = ReturnType<typeof createBotCheckService>;

interface Payload {
  algorithm: 'SHA-256';
  challenge: string;
  number: number;
  salt: string;
  signature: string;
}

/** The base64 JSON payload of a solution, or null when it is not one. */
function decodePayload(solution: string): Payload | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(solution, 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { algorithm, challenge, number, salt, signature } = parsed as Record<string, unknown>;
  if (algorithm !== 'SHA-256' || typeof challenge !== 'string' || typeof salt !== 'string' || typeof signature !== 'string') return null;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) return null;
  if (challenge.length > 128 || salt.length > 512 || signature.length > 128) return null;
  return { algorithm, challenge, number, salt, signature };
}
