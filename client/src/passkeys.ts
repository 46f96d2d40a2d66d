import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';
import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { IamClient } from './client';
import type { RouterOutputs } from './router';

/**
 * Passkey ceremonies in the browser, on `@simplewebauthn/browser`: each helper asks the
 * service for the options, runs the browser's WebAuthn prompt, and sends the answer back. The
 * ceremonies are bound to the browser that asked (its device cookie), so call them from the
 * page that will use the result.
 */

/** Whether this browser can use passkeys at all, and offer them in autofill (conditional UI). */
export async function passkeySupport(): Promise<{ passkeys: boolean; autofill: boolean }> {
  const passkeys = browserSupportsWebAuthn();
  return { passkeys, autofill: passkeys && (await browserSupportsWebAuthnAutofill()) };
}

/**
 * Adds a passkey to the signed-in account. Within 5 minutes of signing in no step-up is
 * needed; later, pass the `stepUpToken` of a `passkey_add` step-up.
 */
export async function registerPasskey(
  api: IamClient,
  options: { name?: string; stepUpToken?: string } = {},
): Promise<RouterOutputs['passkey']['register']> {
  const { ceremonyId: _ceremonyId, ...optionsJSON } = await api.passkey.registrationOptions.mutate(
    options.stepUpToken ? { stepUpToken: options.stepUpToken } : undefined,
  );
  const response: RegistrationResponseJSON = await startRegistration({ optionsJSON });
  return api.passkey.register.mutate({ response, ...(options.name ? { name: options.name } : {}) });
}

/**
 * Signs in with a passkey; the authenticator names the account, no email needed. With
 * `autofill: true` (conditional UI) the prompt waits for the user to pick a passkey from the
 * autofill of an `<input autocomplete="username webauthn">`; start it when the page loads.
 * The result is an `AuthResult`, or a `Challenge` when the sign-in checks ask for more.
 */
export async function signInWithPasskey(api: IamClient, options: { autofill?: boolean } = {}): Promise<RouterOutputs['passkey']['signIn']> {
  const { ceremonyId, ...optionsJSON } = await api.passkey.authenticationOptions.mutate();
  const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON, useBrowserAutofill: options.autofill === true });
  return api.passkey.signIn.mutate({ ceremonyId, response });
}

/** The passkey answer to a challenge whose `methods` list `passkey`, for `mfa.verify` or `mfa.stepUp.verify`. */
async function passkeyAnswer(api: IamClient, challengeId: string) {
  const { ceremonyId, ...optionsJSON } = await api.passkey.authenticationOptions.mutate({ challengeId });
  const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON });
  return { challengeId, passkey: { ceremonyId, response } };
}

/** Completes a sign-in (or refresh) challenge with a passkey of the account: an `AuthResult`. */
export async function verifyChallengeWithPasskey(
  api: IamClient,
  challenge: { challengeId: string },
): Promise<RouterOutputs['mfa']['verify']> {
  return api.mfa.verify.mutate(await passkeyAnswer(api, challenge.challengeId));
}

/** Completes a step-up challenge with a passkey: `{ stepUpToken, expiresAt }` for its action. */
export async function stepUpWithPasskey(
  api: IamClient,
  challenge: { challengeId: string },
): Promise<RouterOutputs['mfa']['stepUp']['verify']> {
  return api.mfa.stepUp.verify.mutate(await passkeyAnswer(api, challenge.challengeId));
}
