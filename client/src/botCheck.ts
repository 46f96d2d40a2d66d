import type { BotCheckChallenge } from '@iam/shared';
import { solveChallenge } from 'altcha-lib/v1';

/**
 * Solves a bot check (`error.data.botCheck` of a `BOT_CHECK_REQUIRED` refusal): the ALTCHA
 * proof of work, in the browser or in Node, with Web Crypto. Resolves to the value to send as
 * `botCheck` when repeating the call. `createIamClient` does this by itself.
 */
export async function solveBotCheck(challenge: BotCheckChallenge, signal?: AbortSignal): Promise<string> {
  const { promise, controller } = solveChallenge(challenge.challenge, challenge.salt, challenge.algorithm, challenge.maxnumber);
  signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const solution = await promise;
  if (!solution) throw new Error('The bot check could not be solved.');
  const payload = JSON.stringify({
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    number: solution.number,
    salt: challenge.salt,
    signature: challenge.signature,
  });
  return btoa(payload);
}
