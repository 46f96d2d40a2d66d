import { randomBytes } from 'node:crypto';
import { codeFromOutbox, dataOf, trpc } from './http';
import type { RunningService } from './service';

/** A signed-up, verified account and the browser (canary cookie) it uses. */
export interface BenchUser {
  email: string;
  password: string;
  /** The `iam_cid` device canary this user's browser keeps. */
  canary: string;
  accessToken: string;
}

export const benchPassword = `bench ${randomBytes(12).toString('hex')} passphrase`;

/** A device canary as the service issues them: 256 bits, base64url (43 characters). */
export function newCanary(): string {
  return randomBytes(32).toString('base64url');
}

/** Signs a user up through the API, verifies the address with the code from the outbox. */
export async function signUp(service: RunningService, email: string): Promise<BenchUser> {
  const canary = newCanary();
  const cookie = `iam_cid=${canary}`;
  const { challengeId } = dataOf<{ challengeId: string }>(
    'auth.signup',
    await trpc(service.trpcUrl, 'auth.signup', { input: { email, password: benchPassword, name: 'Bench' }, cookie }),
  );
  const code = await codeFromOutbox(service.dataDir, email);
  const verified = dataOf<{ status: string; accessToken: string }>(
    'auth.verifyEmail',
    await trpc(service.trpcUrl, 'auth.verifyEmail', { input: { challengeId, code }, cookie }),
  );
  if (verified.status !== 'authenticated') throw new Error(`auth.verifyEmail: ${verified.status}`);
  return { email, password: benchPassword, canary, accessToken: verified.accessToken };
}

/** Signs an existing user in from their own device: a fresh session, its refresh cookie and access token. */
export async function logIn(service: RunningService, user: BenchUser): Promise<{ refreshCookie: string; accessToken: string }> {
  const result = await trpc(service.trpcUrl, 'auth.login', {
    input: { email: user.email, password: user.password },
    cookie: `iam_cid=${user.canary}`,
  });
  const data = dataOf<{ status: string; accessToken: string }>('auth.login', result);
  const refreshToken = result.cookies.get('iam_rt');
  if (data.status !== 'authenticated' || !refreshToken) throw new Error(`auth.login: ${data.status}`);
  return { refreshCookie: `iam_rt=${refreshToken}; iam_cid=${user.canary}`, accessToken: data.accessToken };
}

/** Runs `work` over `items`, `concurrency` at a time, keeping the order of the results. */
export async function mapLimited<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

/** A better-auth account on one peer, signed up through its API; its session cookie. */
export async function signUpBetterAuth(baseURL: string, email: string): Promise<{ email: string; sessionCookie: string }> {
  const response = await fetch(`${baseURL}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseURL },
    body: JSON.stringify({ email, password: benchPassword, name: 'Bench' }),
  });
  if (!response.ok) throw new Error(`better-auth sign-up answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';', 1)[0] ?? '')
    .find((pair) => pair.startsWith('better-auth.session_token='));
  if (!cookie) throw new Error('better-auth sign-up set no session cookie');
  return { email, sessionCookie: cookie };
}
